//go:build linux && (amd64 || arm64) && race

package main

// raceEnabled: the race detector's shadow memory grows RSS with the
// heap it watches, so RSS says nothing about leaks under -race.
const raceEnabled = true
