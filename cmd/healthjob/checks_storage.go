package main

// storageCheckTypes are the check types of this group; see checkTypes.
var storageCheckTypes = map[string]checkType{}
