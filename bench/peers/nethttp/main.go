// Command nethttp is the net/http peer of make bench-http: TechEmpower's
// plaintext (GET /plaintext) and json (GET /json) tests on the standard
// library's server, written the way its users write them. net/http adds
// Date (formatted per response) and Content-Length (the handler writes
// less than its buffer and does not flush); the handler sets Server and
// Content-Type.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"runtime"
)

var helloWorld = []byte("Hello, World!")

type message struct {
	Message string `json:"message"`
}

func plaintext(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Server", "net/http")
	h.Set("Content-Type", "text/plain")
	w.Write(helloWorld)
}

// jsonHandler serializes per request, as TechEmpower's rules require.
func jsonHandler(w http.ResponseWriter, _ *http.Request) {
	b, err := json.Marshal(&message{Message: "Hello, World!"})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Server", "net/http")
	h.Set("Content-Type", "application/json")
	w.Write(b)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	loops := flag.Int("loops", 0, "GOMAXPROCS, the cores the server may use (0: leave it)")
	flag.Parse()
	if *loops > 0 {
		runtime.GOMAXPROCS(*loops)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plaintext", plaintext) // GET patterns match HEAD too
	mux.HandleFunc("GET /json", jsonHandler)
	log.Fatal((&http.Server{Addr: *addr, Handler: mux}).ListenAndServe())
}
