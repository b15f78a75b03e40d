package libsql

// tx is a transaction on one conn.
type tx struct {
	c *conn
}

func (t *tx) Commit() error   { return t.c.endTx(true) }
func (t *tx) Rollback() error { return t.c.endTx(false) }
