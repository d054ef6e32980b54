// Command fasthttp is the github.com/valyala/fasthttp peer of make
// bench-http: TechEmpower's plaintext (GET /plaintext) and json (GET
// /json) tests written the way fasthttp's users write them, in one process
// (not TechEmpower's prefork variant, whose child processes would escape
// the per-process CPU accounting). fasthttp adds Server (Server.Name), a
// Date it formats once a second, and Content-Length.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"runtime"

	"github.com/valyala/fasthttp"
)

var helloWorld = []byte("Hello, World!")

type message struct {
	Message string `json:"message"`
}

func handler(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Error("Method Not Allowed", fasthttp.StatusMethodNotAllowed)
		return
	}
	switch string(ctx.Path()) { // the compiler does not allocate for this conversion
	case "/plaintext":
		ctx.SetContentType("text/plain")
		ctx.SetBody(helloWorld)
	case "/json":
		// Serialized per request, as TechEmpower's rules require.
		b, err := json.Marshal(&message{Message: "Hello, World!"})
		if err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(b)
	default:
		ctx.Error("Not Found", fasthttp.StatusNotFound)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	loops := flag.Int("loops", 0, "GOMAXPROCS, the cores the server may use (0: leave it)")
	flag.Parse()
	if *loops > 0 {
		runtime.GOMAXPROCS(*loops)
	}
	s := &fasthttp.Server{Handler: handler, Name: "fasthttp"}
	log.Fatal(s.ListenAndServe(*addr))
}
