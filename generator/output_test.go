package generator_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pipewright/pipewright/generator"
	"github.com/pipewright/pipewright/generator/render"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, s := range files {
		f := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// files is every regular file under dir (slash paths) with its content.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWriteOwnedKeepsUserFiles is generate -o . in a project root: the
// user's README.md and tasks/ files are not pipewright's, so nothing is
// written; with a folder of its own it writes, rewrites and removes only
// what it owns.
func TestWriteOwnedKeepsUserFiles(t *testing.T) {
	tree := generatorTree(t)
	dir := t.TempDir()
	user := map[string]string{"README.md": "# my project\n", "tasks/mine.yaml": "kind: Task\n", "main.go": "package main\n"}
	writeFiles(t, dir, user)
	_, err := generator.WriteOwned(tree, dir, generator.WriteOptions{})
	var ce *generator.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("generate into a project root: want a ConflictError, got %v", err)
	}
	if len(ce.Conflicts) != 1 || !strings.HasPrefix(ce.Conflicts[0], "README.md: exists and pipewright did not write it") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("conflicts %q (%v): want README.md named, with the --force hint", ce.Conflicts, err)
	}
	if got := files(t, dir); !reflect.DeepEqual(got, user) {
		t.Fatalf("a refused generate changed the folder: %v", got)
	}

	// A folder pipewright owns: first write, then a second with one file
	// gone, one changed, and a user file beside them in tasks/.
	out := filepath.Join(dir, "tekton")
	rep, err := generator.WriteOwned(tree, out, generator.WriteOptions{})
	if err != nil || len(rep.Written) != len(tree) {
		t.Fatalf("first write: %v, report %+v", err, rep)
	}
	writeFiles(t, out, map[string]string{"tasks/mine.yaml": "kind: Task\n"})
	next := render.Tree{}
	for p, b := range tree {
		if p != "tasks/extra.yaml" {
			next[p] = b
		}
	}
	next["README.md"] = []byte("new readme\n")
	rep, err = generator.WriteOwned(next, out, generator.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Written, []string{"README.md"}) || !reflect.DeepEqual(rep.Removed, []string{"tasks/extra.yaml"}) {
		t.Fatalf("second write: %+v", rep)
	}
	got := files(t, out)
	if got["tasks/mine.yaml"] != "kind: Task\n" || got["README.md"] != "new readme\n" {
		t.Fatalf("after the second write: %v", got)
	}
	if _, ok := got["tasks/extra.yaml"]; ok {
		t.Fatal("a file no longer generated is still there")
	}
	m := got[generator.ManifestFile]
	if strings.Contains(m, "mine.yaml") || strings.Contains(m, "extra.yaml") || !strings.Contains(m, "  README.md\n") {
		t.Fatalf("manifest:\n%s", m)
	}

	// An owned file the user edited is not overwritten without --force.
	writeFiles(t, out, map[string]string{"README.md": "my notes\n"})
	if _, err := generator.WriteOwned(next, out, generator.WriteOptions{}); err == nil || !strings.Contains(err.Error(), "README.md: changed since pipewright wrote it") {
		t.Fatalf("edited owned file: want a conflict, got %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "README.md")); string(b) != "my notes\n" {
		t.Fatal("the edited README was overwritten")
	}
	if _, err := generator.WriteOwned(next, out, generator.WriteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "README.md")); string(b) != "new readme\n" {
		t.Fatal("--force did not overwrite")
	}

	// --force in the project root: README.md replaced, the rest kept.
	if _, err := generator.WriteOwned(tree, dir, generator.WriteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	got = files(t, dir)
	if got["main.go"] != "package main\n" || got["tasks/mine.yaml"] != "kind: Task\n" || got["README.md"] != string(tree["README.md"]) {
		t.Fatalf("--force in a project root: %v", got)
	}
}

// TestWriteOwnedAdoptsIdentical: output committed before the manifest
// existed (identical content) is taken over without --force.
func TestWriteOwnedAdoptsIdentical(t *testing.T) {
	tree := generatorTree(t)
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	rep, err := generator.WriteOwned(tree, dir, generator.WriteOptions{})
	if err != nil || len(rep.Adopted) != len(tree) || len(rep.Written) != 0 {
		t.Fatalf("%v %+v", err, rep)
	}
	rep, err = generator.WriteOwned(tree, dir, generator.WriteOptions{})
	if err != nil || len(rep.Unchanged) != len(tree) {
		t.Fatalf("%v %+v", err, rep)
	}
}

// TestWriteOwnedRollsBack: a failure midway (the second rename in fails)
// leaves every file as it was.
func TestWriteOwnedRollsBack(t *testing.T) {
	tree := render.Tree{"a/x.yaml": []byte("new a\n"), "z/y.yaml": []byte("new z\n")}
	dir := t.TempDir()
	if _, err := generator.WriteOwned(render.Tree{"a/x.yaml": []byte("old a\n"), "z/y.yaml": []byte("old z\n")}, dir, generator.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	before := files(t, dir)
	defer generator.FailRenameAfter(1)()
	if _, err := generator.WriteOwned(tree, dir, generator.WriteOptions{}); err == nil || !strings.Contains(err.Error(), "replace z/y.yaml") {
		t.Fatalf("want the injected failure on z/y.yaml, got %v", err)
	}
	if got := files(t, dir); !reflect.DeepEqual(got, before) {
		t.Fatalf("after a failed write:\n%v\nwant\n%v", got, before)
	}
}

func generatorTree(t *testing.T) render.Tree {
	t.Helper()
	return render.Tree{
		"README.md":          []byte("# CI/CD\n"),
		"tasks/extra.yaml":   []byte("kind: Task\nmetadata: {name: extra}\n"),
		"tasks/go.yaml":      []byte("kind: Task\nmetadata: {name: go}\n"),
		"kustomization.yaml": []byte("resources: []\n"),
	}
}
