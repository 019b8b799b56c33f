package main

// celeryCheckTypes are the check types of this group; see checkTypes.
var celeryCheckTypes = map[string]checkType{}
