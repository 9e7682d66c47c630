package store

// Exposed to the external tests.
var (
	QueryFiles  = queryFiles
	LoadQueries = loadQueries
)
