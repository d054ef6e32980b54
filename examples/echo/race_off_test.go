//go:build linux && (amd64 || arm64) && !race

package main

const raceEnabled = false
