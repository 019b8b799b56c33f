package main

// systemCheckTypes are the check types of this group; see checkTypes.
var systemCheckTypes = map[string]checkType{}
