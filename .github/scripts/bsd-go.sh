# Sourced (". .github/scripts/bsd-go.sh") inside the BSD virtual machines of
# .github/workflows/test.yml, after the OS's own go package was installed:
# puts a Go that satisfies go.mod first on PATH. The packaged Go is used
# when it is new enough; else GOTOOLCHAIN=auto fetches the release
# toolchain; where no release toolchain exists for the OS, Go is built
# from its source release with the packaged Go as bootstrap.
GO_WANT=1.26.8
export GOFLAGS=-buildvcs=false CGO_ENABLED=0
need="go$GO_WANT"
if go version >/dev/null 2>&1 && GOTOOLCHAIN=local go list -m >/dev/null 2>&1; then
	echo "bsd-go: packaged $(go version) satisfies go.mod"
elif GOTOOLCHAIN="$need" go version >/dev/null 2>&1; then
	export GOTOOLCHAIN="$need"
	echo "bsd-go: using the release toolchain $(go version)"
else
	echo "bsd-go: no release toolchain for $(uname -s); building $need from source"
	boot=$(go env GOROOT)
	mkdir -p "$HOME/gosrc" && cd "$HOME/gosrc" &&
		curl -fsSL -o go.src.tar.gz "https://go.dev/dl/$need.src.tar.gz" &&
		tar xzf go.src.tar.gz && cd go/src &&
		GOROOT_BOOTSTRAP="$boot" GOTOOLCHAIN=local bash ./make.bash >/dev/null &&
		cd - >/dev/null || exit 1
	export PATH="$HOME/gosrc/go/bin:$PATH" GOTOOLCHAIN=local
fi
go version
