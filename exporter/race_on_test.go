//go:build race

package exporter

// raceEnabled: the race detector slows exports about tenfold, so the
// memory check uses smaller archives under it.
const raceEnabled = true
