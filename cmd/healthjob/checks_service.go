package main

// serviceCheckTypes are the check types of this group; see checkTypes.
var serviceCheckTypes = map[string]checkType{}
