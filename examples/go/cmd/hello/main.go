// Command hello serves a greeting; it is pipewright's Go example service.
package main

import (
	"fmt"
	"log"
	"net/http"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Hello, World!") })
	log.Fatal(http.ListenAndServe(":8080", nil))
}
