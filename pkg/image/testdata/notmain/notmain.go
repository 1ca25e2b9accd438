// Package notmain is a library: image build must refuse it.
package notmain

// X exists so the package is not empty.
const X = 1
