package main

// probeCheckTypes are the check types of this group; see checkTypes.
var probeCheckTypes = map[string]checkType{}
