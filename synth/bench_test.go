package synth

import (
	"io"
	"testing"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/store"
)

// BenchmarkGenerate measures how fast the generator streams an archive of
// 10 000 events (with its actors and places), without and with sources.
func BenchmarkGenerate(b *testing.B) {
	const events = 10000
	for _, bc := range []struct {
		name    string
		sources bool
	}{{"records", false}, {"with_sources", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var bytes int64
			for b.Loop() {
				g := New(1, events)
				g.Sources = bc.sources
				err := g.Batches(1000, func(bt *store.Batch) error {
					for _, s := range bt.Sources {
						bytes += int64(len(s.Text))
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
			if bc.sources {
				b.ReportMetric(float64(bytes)/float64(events*b.N), "doc-bytes/event")
			}
		})
	}
}

// BenchmarkWriteDocument measures writing events as seed-format documents,
// resolving names through the Generator.
func BenchmarkWriteDocument(b *testing.B) {
	g := New(1, 10000)
	evs := make([]*annalsv1.Event, 0, 100)
	for i := range 100 {
		evs = append(evs, g.EventAt(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := WriteDocument(io.Discard, evs[i%len(evs)], g); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}
