package rebuild

import "github.com/entlibsql/entlibsql/internal/ddl"

// Block is one table rebuild in a plan, as Atlas writes it (and SQLite's
// documentation describes it): CREATE TABLE new_t, the sqlite_sequence
// row of new_t if any, the copy INSERT INTO new_t ... SELECT ... FROM t,
// DROP TABLE t, ALTER TABLE new_t RENAME TO t, then t's indexes.
type Block struct {
	Table  string // t
	Temp   string // new_t
	Create int    // index of CREATE TABLE new_t in the plan
	Copy   int    // index of the copy, -1 if the plan copies nothing
	Drop   int    // index of DROP TABLE t
	Rename int    // index of the rename
	End    int    // index of the block's last statement: the rename, or the last index made on t after it
}

// Find returns the rebuilds in plan, in order.
func Find(plan []string) []Block {
	var blocks []Block
	for i := 0; i < len(plan); i++ {
		temp, ok := ddl.CreateTableName(plan[i])
		if !ok {
			continue
		}
		b := Block{Temp: temp, Create: i, Copy: -1, Drop: -1, Rename: -1}
		for j := i + 1; j < len(plan) && b.Rename < 0; j++ {
			if from, to, ok := ddl.RenameTable(plan[j]); ok && ddl.SameName(from, temp) {
				b.Table, b.Rename = to, j
			}
		}
		if b.Rename < 0 {
			continue
		}
		for j := i + 1; j < b.Rename; j++ {
			if name, ok := ddl.DropTable(plan[j]); ok && ddl.SameName(name, b.Table) {
				b.Drop = j
			}
			if c, ok := ddl.ParseCopy(plan[j]); ok && ddl.SameName(c.Into, temp) && ddl.SameName(c.From, b.Table) && b.Drop < 0 {
				b.Copy = j
			}
		}
		if b.Drop < 0 {
			continue // a new table renamed: no rebuild
		}
		b.End = b.Rename
		for b.End+1 < len(plan) {
			if _, on, ok := ddl.CreateIndex(plan[b.End+1]); !ok || !ddl.SameName(on, b.Table) {
				break
			}
			b.End++
		}
		blocks = append(blocks, b)
		i = b.End
	}
	return blocks
}
