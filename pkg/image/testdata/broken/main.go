// Command broken does not compile: image build must report go build's error.
package main

func main() { undefined() }
