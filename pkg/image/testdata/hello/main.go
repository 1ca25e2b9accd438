// Command hello is the small Go service the image tests and `make
// bench-image` build: it answers HTTP with a YAML greeting, and with
// -print writes the greeting and exits, so tests can run the binary.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"

	"sigs.k8s.io/yaml"
)

func greeting() []byte {
	b, err := yaml.Marshal(map[string]string{"greeting": "hello from pipewright"})
	if err != nil {
		log.Fatal(err)
	}
	return b
}

func main() {
	print := flag.Bool("print", false, "print the greeting and exit")
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()
	if *print {
		os.Stdout.Write(greeting())
		return
	}
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(greeting())
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
