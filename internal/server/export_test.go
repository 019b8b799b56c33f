package server

// The two decoders behind Decode, for the fuzz test that holds them equal.
var (
	DecodeFast = decodeFast
	DecodeSlow = decodeSlow
)
