package generator

import (
	"errors"
	"os"
)

// FailRenameAfter makes WriteOwned's renames into place fail after n
// successful ones, until the returned func restores them.
func FailRenameAfter(n int) func() {
	rename = func(from, to string) error {
		if n == 0 {
			return errors.New("injected failure")
		}
		n--
		return os.Rename(from, to)
	}
	return func() { rename = os.Rename }
}
