// Package vector makes libSQL's native vectors ent fields, indexes and
// queries: F32_BLOB(n) columns and the other vector types, DiskANN
// indexes (libsql_vector_idx) declared in the ent schema, and
// nearest-neighbour queries (vector_top_k, vector_distance_cos,
// vector_distance_l2) usable in ent's generated Where, Order and Modify.
// It is pure Go, and works over every transport of
// github.com/entlibsql/entlibsql/dialect/libsql and on the embedded engine.
//
// # Fields
//
// Field declares a field of a Vector ([]float32), stored as
// F32_BLOB(dims); Float64Field, Float16Field, BFloat16Field, Float8Field
// and Float1BitField the other libSQL types. A value of the wrong
// dimension fails before anything is sent, with a *DimensionError:
//
//	func (Post) Fields() []ent.Field {
//		return []ent.Field{
//			field.String("title"),
//			vector.Field("embedding", 384).Optional(),
//		}
//	}
//
// Each type is written in libSQL's binary format, byte for byte as
// libSQL's own conversion functions (vector32, vector16, ...) write it,
// and reads back bit for bit; nil is NULL. A vector another client stored
// in libSQL's text form ('[1,2,3]') reads as libSQL reads it.
//
// ent skips the field's checks in an upsert's update setters
// (OnConflict().SetEmbedding(v)): check the dimension before using one.
// A generated predicate on the field with a vector of the wrong dimension
// fails the statement, Update and Delete included, when the client is
// generated with the entc extension (ent alone drops that error there and
// runs the statement without the predicate, on every row).
//
// # Indexes
//
// Index annotates an ent index as a vector index:
//
//	func (Post) Indexes() []ent.Index {
//		return []ent.Index{
//			index.Fields("embedding").Annotations(vector.Index(vector.Cosine)),
//		}
//	}
//
// client.Schema.Create(ctx, schema.WithLibSQL()) (package
// github.com/entlibsql/entlibsql/schema) and versioned migrations create
// it, replace it when its settings change, and re-create it after a table
// rebuild. Without WithLibSQL ent creates an ordinary index on the column
// instead (and replaces a vector index of that name by it).
//
// # Queries
//
// Nearest keeps the k rows the index finds nearest to a query vector;
// CosineDistance and L2Distance compute exact distances, to filter (LT),
// order (Asc) or select (As):
//
//	q := vector.Vector(embed("schema migrations"))
//	posts, err := client.Post.Query().
//		Where(vector.Nearest("post_embedding", q, 10), post.Published(true)).
//		Order(vector.CosineDistance(post.FieldEmbedding, q).Asc()).
//		WithAuthor().
//		All(ctx)
//
// The index name is ent's: the lower-case entity name and the field,
// "post_embedding", unless the index has a StorageKey. A row without a
// vector has no distance: it matches no LT and sorts last. A helper given
// a query vector it cannot send, or a k beyond MaxK, fails the statement
// with an error naming it, in queries, updates and deletes alike.
package vector
