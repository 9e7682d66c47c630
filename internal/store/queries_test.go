package store_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
)

// namedInGo returns every query name the package's Go code passes to q, with
// where; a q call whose argument is not a string literal is an error, since its
// name could not be checked.
// use is a query name in Go: where, whether through named, and, for a
// named call written with literal Args, the argument names it passes.
type use struct {
	at    string
	named bool
	args  []string // nil: not literal
}

func namedInGo(t *testing.T) map[string][]use {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	names := map[string][]use{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			id, ok := call.Fun.(*ast.Ident)
			if !ok || !(id.Name == "q" && len(call.Args) == 1 || id.Name == "named" && len(call.Args) == 2) {
				return true
			}
			at := fset.Position(call.Pos()).String()
			lit, ok := call.Args[0].(*ast.BasicLit)
			require.True(t, ok && lit.Kind == token.STRING, "%s: %s takes a literal query name", at, id.Name)
			name, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			u := use{at: at, named: id.Name == "named"}
			if cl, ok := call.Args[len(call.Args)-1].(*ast.CompositeLit); ok && u.named {
				u.args = []string{}
				for _, e := range cl.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					require.True(t, ok, "%s: Args of %s written without keys", at, name)
					k, ok := kv.Key.(*ast.BasicLit)
					require.True(t, ok && k.Kind == token.STRING, "%s: an argument of %s not named by a literal", at, name)
					key, err := strconv.Unquote(k.Value)
					require.NoError(t, err)
					u.args = append(u.args, key)
				}
			}
			names[name] = append(names[name], u)
			return true
		})
	}
	return names
}

// Every query Go names is defined and every one defined is used; one that
// names its parameters is used only through named, and a call that writes
// its Args out passes exactly the parameters the file names.
func TestEveryQueryNamedIsDefinedAndUsed(t *testing.T) {
	defined, params, err := store.LoadQueries(store.QueryFiles)
	require.NoError(t, err)
	used := namedInGo(t)
	require.Greater(t, len(used), 50, "the scan found the package's queries")
	literal := 0
	for name, uses := range used {
		for _, u := range uses {
			require.Contains(t, defined, name, "%s: %q names no query in queries/*.sql", u.at, name)
			if params[name] == nil {
				require.False(t, u.named, "%s: %s numbers its parameters: call q, not named", u.at, name)
				continue
			}
			require.True(t, u.named, "%s: %s names its parameters: call named with Args, not q", u.at, name)
			if u.args != nil {
				literal++
				require.ElementsMatch(t, params[name], u.args, "%s: the Args of %s", u.at, name)
			}
		}
	}
	require.Positive(t, literal, "the scan found named calls with literal Args")
	for _, name := range slices.Sorted(maps.Keys(defined)) {
		require.Contains(t, used, name, "queries/*.sql defines %s, which no Go code uses: delete it or use it", name)
	}
}

// The checks themselves: a duplicate name, an undefined fragment and one that
// includes itself are errors naming the file; fragments may include fragments.
func TestQueryFilesRejectMistakes(t *testing.T) {
	_, _, err := store.LoadQueries(fstest.MapFS{
		"queries/a.sql": {Data: []byte("-- name: UserGet\nSELECT 1;\n")},
		"queries/b.sql": {Data: []byte("-- name: UserGet\nSELECT 2;\n")},
	})
	require.EqualError(t, err, `store: queries/b.sql: query "UserGet" is already defined in queries/a.sql`)
	_, _, err = store.LoadQueries(fstest.MapFS{
		"queries/a.sql": {Data: []byte("-- name: UserCount\nSELECT count(*) FROM users WHERE {{eligble $1}};\n")},
	})
	require.EqualError(t, err, "store: queries/a.sql: query UserCount includes {{eligble}}, which no file defines")
	_, _, err = store.LoadQueries(fstest.MapFS{
		"queries/a.sql": {Data: []byte("-- name: UserCount\nSELECT count(*) FROM users u WHERE {{active}};\n" +
			"-- name: fragment Active\nu.active AND {{Active}}\n")},
	})
	require.EqualError(t, err, "store: queries/a.sql: query UserCount nests fragments more than 4 deep (does one include itself?)")
	got, _, err := store.LoadQueries(fstest.MapFS{
		"queries/a.sql": {Data: []byte("-- name: UserCount\nSELECT count(*) FROM users u WHERE {{active}};\n" +
			"-- name: fragment Active\nu.active AND {{here}}\n-- name: fragment Here\n-- who is here\nu.status = 'available'\n")},
	})
	require.NoError(t, err)
	require.Equal(t, "SELECT count(*) FROM users u WHERE u.active AND u.status = 'available';", got["UserCount"], "a fragment's fragments are expanded too")

	// Named parameters are numbered in order of first use; a name used twice
	// is one parameter; comments, strings and the @> operator are left be.
	got, params, err := store.LoadQueries(fstest.MapFS{
		"queries/a.sql": {Data: []byte("-- name: UserFind\n-- by @id\nSELECT id FROM users WHERE tags @> @tags AND (id = @id OR name = '@id' OR email = @id);\n")},
	})
	require.NoError(t, err)
	require.Equal(t, "-- by @id\nSELECT id FROM users WHERE tags @> $1 AND (id = $2 OR name = '@id' OR email = $2);", got["UserFind"])
	require.Equal(t, map[string][]string{"UserFind": {"tags", "id"}}, params)
	_, _, err = store.LoadQueries(fstest.MapFS{
		"queries/a.sql": {Data: []byte("-- name: UserFind\nSELECT id FROM users WHERE id = @id AND name = $2;\n")},
	})
	require.EqualError(t, err, "store: queries/a.sql: query UserFind: mixes numbered ($N) and named (@id) parameters")
}

// Every query, fragments included, prepares on a freshly migrated database: a
// wrong table, column, type or parameter fails here, not in production.
func TestEveryQueryPreparesAgainstTheSchema(t *testing.T) {
	ctx := context.Background()
	db := batontest.New(t)
	defined, _, err := store.LoadQueries(store.QueryFiles)
	require.NoError(t, err)
	conn, err := db.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	// The directory load's staging table lives for one transaction: make it
	// first, as a load does, so the queries that read it prepare.
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck // the test's transaction is never committed
	_, err = tx.Exec(ctx, defined["DirectoryStage"])
	require.NoError(t, err)
	for _, name := range slices.Sorted(maps.Keys(defined)) {
		_, err := tx.Prepare(ctx, name, defined[name])
		require.NoError(t, err, "query %s does not prepare against the schema:\n%s", name, defined[name])
	}
}

// Each query file opens with the shape of the tables its queries use, and the
// shape is the schema's: a migration that changes a table fails here until
// the header says so.
func TestQueryFilesOpenWithTheirTablesShape(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	rows, err := db.Pool.Query(context.Background(), `SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES'
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name, c.ordinal_position`)
	require.NoError(t, err)
	live := map[string][]string{}
	for rows.Next() {
		var table, column, typ string
		var nullable bool
		require.NoError(t, rows.Scan(&table, &column, &typ, &nullable))
		typ = strings.NewReplacer("timestamp with time zone", "timestamptz", "ARRAY", "text[]", "character varying", "text").Replace(typ)
		if nullable {
			typ += "?"
		}
		live[table] = append(live[table], column+" "+typ)
	}
	require.NoError(t, rows.Err())

	files, err := filepath.Glob("queries/*.sql")
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var shaped int
		for _, line := range strings.Split(string(data), "\n") {
			rest, ok := strings.CutPrefix(line, "-- shape ")
			if !ok {
				continue
			}
			table, cols, ok := strings.Cut(strings.TrimSuffix(rest, ")"), "(")
			require.True(t, ok, "%s: %q: want -- shape table(column type, …)", f, line)
			require.Contains(t, live, table, "%s: no table %s", f, table)
			require.Equal(t, strings.Join(live[table], ", "), cols, "%s: the shape of %s", f, table)
			shaped++
		}
		require.Positive(t, shaped, "%s opens with no table's shape", f)
	}
}
