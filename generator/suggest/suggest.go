// Package suggest finds the known name closest to a misspelt one, for the
// "did you mean" hints of config and catalog errors.
package suggest

import "strings"

// Closest returns the name in names nearest to got (case-insensitive, at
// most two edits away), or "" when none is that close.
func Closest(got string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		d := Distance(strings.ToLower(got), strings.ToLower(n))
		if d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// Distance is the Levenshtein edit distance.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
