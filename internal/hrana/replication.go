package hrana

// Read-your-writes through replicas. A write sent to a sqld replica is
// forwarded to the primary, and the replica applies it later; a read
// right after, on another stream, may not see it yet. Every result says
// the replication index it left the database at, and a statement may ask
// the server to wait until it has applied an index before running. The
// client keeps the highest index any of its streams has seen and sends it
// with every statement, so its reads follow its writes on every pooled
// connection, not only on the one that wrote. On a primary the wait is
// always over at once.

// ReplicationIndex is the highest replication index the client's streams
// have seen; 0 before any.
func (c *Client) ReplicationIndex() uint64 { return c.replIndex.Load() }

// observe raises the client's index to idx.
func (c *Client) observe(idx OptInt) {
	if !idx.Valid || idx.Value <= 0 {
		return
	}
	v := uint64(idx.Value)
	for {
		cur := c.replIndex.Load()
		if v <= cur || c.replIndex.CompareAndSwap(cur, v) {
			return
		}
	}
}

// observeResults records the indexes of a pipeline's results.
func (c *Client) observeResults(results []Result) {
	for _, r := range results {
		if r.Response == nil {
			continue
		}
		if r.Response.Result != nil {
			c.observe(r.Response.Result.ReplicationIndex)
		}
		if r.Response.Batch != nil {
			c.observe(r.Response.Batch.ReplicationIndex)
		}
	}
}

// withReplicationIndex returns reqs with the client's index on every
// statement and batch that does not carry one. reqs is not modified.
func (c *Client) withReplicationIndex(reqs []Request) []Request {
	idx := c.replIndex.Load()
	if idx == 0 {
		return reqs
	}
	out := make([]Request, len(reqs))
	for i, r := range reqs {
		switch {
		case r.stmt != nil && r.stmt.ReplicationIndex == 0:
			st := *r.stmt
			st.ReplicationIndex = idx
			r.stmt = &st
		case r.batch != nil && r.batch.ReplicationIndex == 0:
			bt := *r.batch
			bt.ReplicationIndex = idx
			r.batch = &bt
		}
		out[i] = r
	}
	return out
}

// stampBatch gives b the client's index unless it carries one.
func (c *Client) stampBatch(b *Batch) {
	if idx := c.replIndex.Load(); idx > 0 && b.ReplicationIndex == 0 {
		b.ReplicationIndex = idx
	}
}
