package main

// sqlCheckTypes are the check types of this group; see checkTypes.
var sqlCheckTypes = map[string]checkType{}
