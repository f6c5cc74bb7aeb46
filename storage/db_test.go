package storage

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestShift_RenumbersEveryPlaceholder(t *testing.T) {
	for _, c := range []struct {
		in     string
		offset int
		want   string
	}{
		{"VALUES ($1, $2), ($3, $10)", 4, "VALUES ($5, $6), ($7, $14)"},
		{"WHERE a = $1 AND b = $1", 9, "WHERE a = $10 AND b = $10"},
		{"SELECT $", 3, "SELECT $"},
		{"x = $2", 0, "x = $2"},
	} {
		if got := shift(c.in, c.offset); got != c.want {
			t.Errorf("shift(%q, %d) = %q, want %q", c.in, c.offset, got, c.want)
		}
	}
}

func TestReadMigrations_DialectVariantReplacesTheSharedFile(t *testing.T) {
	fsys := fstest.MapFS{
		"0001_init.sql":          {Data: []byte("CREATE TABLE a (id TEXT);\n")},
		"0002_more.sql":          {Data: []byte("-- nothing here for sqlite\n")},
		"0002_more.postgres.sql": {Data: []byte("CREATE INDEX a_id ON a (id);\n")},
		"0003_last.sql":          {Data: []byte("CREATE TABLE b (id TEXT);\n")},
		"0003_last.sqlite.sql":   {Data: []byte("CREATE TABLE b (id TEXT NOT NULL);\n")},
	}
	for _, c := range []struct {
		dialect string
		files   []string
	}{
		{"sqlite", []string{"0001_init.sql", "0002_more.sql", "0003_last.sqlite.sql"}},
		{"postgres", []string{"0001_init.sql", "0002_more.postgres.sql", "0003_last.sql"}},
		{"other", []string{"0001_init.sql", "0002_more.sql", "0003_last.sql"}},
	} {
		ms, err := readMigrations(fsys, c.dialect)
		if err != nil {
			t.Fatalf("%s: %v", c.dialect, err)
		}
		var files, names []string
		for i, m := range ms {
			if m.Version != i+1 || m.SQL != string(fsys[m.File].Data) {
				t.Errorf("%s: migration %d is %+v", c.dialect, i+1, m)
			}
			files = append(files, m.File)
			names = append(names, m.Name)
		}
		if !slices.Equal(files, c.files) {
			t.Errorf("%s runs %v, want %v", c.dialect, files, c.files)
		}
		if want := []string{"0001_init", "0002_more", "0003_last"}; !slices.Equal(names, want) {
			t.Errorf("%s records %v, want %v", c.dialect, names, want)
		}
	}
}

func TestReadMigrations_RefusesAmbiguousFiles(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []string
		want  string
	}{
		{"variant without a shared file", []string{"0001_init.sql", "0002_more.postgres.sql"}, "no shared file 0002_more.sql"},
		{"variant of another name", []string{"0001_init.sql", "0001_other.sqlite.sql"}, "no shared file 0001_other.sql"},
		{"two files of one version", []string{"0001_init.sql", "0001_other.sql"}, "have one version"},
		{"no version", []string{"init.sql"}, "must be NNNN_name.sql"},
		{"no name", []string{"0001.sql"}, "must be NNNN_name.sql"},
		{"two dialects", []string{"0001_init.sqlite.postgres.sql"}, "must be NNNN_name.sql"},
		{"empty dialect", []string{"0001_init..sql"}, "must be NNNN_name.sql"},
	} {
		fsys := fstest.MapFS{}
		for _, f := range c.files {
			fsys[f] = &fstest.MapFile{Data: []byte("SELECT 1;\n")}
		}
		if _, err := readMigrations(fsys, "sqlite"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
}
