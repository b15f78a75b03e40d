package schema

// InOneTransaction turns Diff's one-transaction path on and off, to
// compare it with the replay statement by statement.
var InOneTransaction = &inOneTransaction

// FellBack is called when Diff gave up the one-transaction path.
var FellBack = &fellBack
