package github

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pipewright/pipewright/pkg/keys"
)

// What catalog steps keep of their output for the check run (see
// generator/catalog's KeepLog): in the checkout's keys.TaskLogDir, NAME.log
// holds the last keys.TaskLogBytes of a task's output and NAME.status
// "START END EXIT" (Unix seconds, and the script's exit code).

// tailLines is how many lines of a failed task's log the summary shows.
const (
	tailLines    = 40
	maxLineChars = 400
	// maxWalk bounds the files looked at to find a bare file name.
	maxWalk = 50000
)

var taskName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// TaskReport is what the kept logs add to a check run.
type TaskReport struct {
	Tasks       []TaskOutcome // with durations where a status file says
	Logs        []TaskLog     // of failed tasks
	Annotations []Annotation  // from failed tasks' logs, paths relative to the checkout
}

// ReadTaskLogs reads what the tasks kept in checkout. The checkout holds
// the code under test, which may have put anything there (a symlink to the
// key this report signs with): files are opened through os.Root, so none
// outside checkout is read, and only regular files of bounded size are.
// A task with no kept log is reported without one.
func ReadTaskLogs(checkout string, tasks []TaskOutcome) (TaskReport, error) {
	rep := TaskReport{Tasks: append([]TaskOutcome(nil), tasks...)}
	root, err := os.OpenRoot(checkout)
	if err != nil {
		return rep, fmt.Errorf("checkout: %w", err)
	}
	defer root.Close()
	idx := &fileIndex{root: checkout}
	for i, t := range rep.Tasks {
		if !taskName.MatchString(t.Name) {
			continue
		}
		base := path.Join(keys.TaskLogDir, t.Name)
		if st, err := readKept(root, base+".status", 256); err == nil {
			rep.Tasks[i].Duration = parseStatus(st)
		}
		if t.Outcome != "Failed" {
			continue
		}
		log, err := readKept(root, base+".log", keys.TaskLogBytes)
		if err != nil {
			continue
		}
		rep.Logs = append(rep.Logs, TaskLog{Name: t.Name, Tail: tail(log)})
		anns, err := ParseAnnotations(bytes.NewReader(log), strings.TrimSuffix(checkout, "/")+"/")
		if err != nil {
			return rep, fmt.Errorf("task %s: %w", t.Name, err)
		}
		for _, a := range anns {
			a.Path = idx.resolve(root, a.Path)
			rep.Annotations = append(rep.Annotations, a)
		}
	}
	return rep, nil
}

// readKept reads the last limit bytes of the regular file name in root.
func readKept(root *os.Root, name string, limit int64) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	if st.Size() > limit {
		if _, err := f.Seek(st.Size()-limit, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// parseStatus reads "START END EXIT"; 0 when it makes no sense.
func parseStatus(b []byte) time.Duration {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	start, err1 := strconv.ParseInt(f[0], 10, 64)
	end, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || end < start || end-start > 7*24*3600 {
		return 0
	}
	if end == start {
		return time.Second / 2 // ran, in under a second; shown as 1s
	}
	return time.Duration(end-start) * time.Second
}

// tail is the last lines of log, each cut to a readable width.
func tail(log []byte) string {
	lines := strings.Split(strings.TrimRight(string(bytes.ToValidUTF8(log, []byte("?"))), "\n"), "\n")
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	for i, l := range lines {
		l = strings.TrimRight(l, "\r")
		if r := []rune(l); len(r) > maxLineChars {
			l = string(r[:maxLineChars]) + "…"
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n") + "\n"
}

// fileIndex finds files of the checkout by name, for tools that print a
// path relative to where they ran (go test: the package's folder).
type fileIndex struct {
	root  string
	files []string // slash-separated, relative to root; nil until needed
	built bool
}

func (x *fileIndex) resolve(root *os.Root, p string) string {
	p = path.Clean(filepath.ToSlash(p))
	if p == "." || strings.HasPrefix(p, "../") || path.IsAbs(p) {
		return p
	}
	if _, err := root.Stat(p); err == nil {
		return p
	}
	if !x.built {
		x.build()
	}
	var found string
	for _, f := range x.files {
		if f == p || strings.HasSuffix(f, "/"+p) {
			if found != "" {
				return p // ambiguous: keep what the tool said
			}
			found = f
		}
	}
	if found == "" {
		return p
	}
	return found
}

var errStop = errors.New("stop")

func (x *fileIndex) build() {
	x.built = true
	n := 0
	_ = filepath.WalkDir(x.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n++; n > maxWalk {
			return errStop
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			if rel, err := filepath.Rel(x.root, p); err == nil {
				x.files = append(x.files, filepath.ToSlash(rel))
			}
		}
		return nil
	})
}
