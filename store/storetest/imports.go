package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	annalsv1 "github.com/annals-project/annals/gen/annals/v1"
	"github.com/annals-project/annals/ingest"
	"github.com/annals-project/annals/resource"
	"github.com/annals-project/annals/store"
)

// Document is one seed-format document for an import test.
type Document struct {
	File string
	Text string
}

// ConcurrencyDocuments returns n documents that overlap the way a busy
// archive's do: every one names Moscow, Molotov and the two governments;
// every third is a revision of one shared event; every fifth names a person
// another one names too; one is given twice, byte for byte, and one again
// with CRLF line ends and a byte-order mark (the same document). Imported
// concurrently they must give what importing them one by one gives.
func ConcurrencyDocuments(n int) []Document {
	var docs []Document
	for i := range n {
		title := fmt.Sprintf("Moscow Conference %03d", i)
		date := fmt.Sprintf("April %d, 1941", 1+i%28)
		if i%3 == 0 {
			title, date = "Moscow Shared Conference", "May 5, 1941"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s\n\nDelegations met in Moscow, meeting %d.\n\n", date, i)
		fmt.Fprintf(&b, "Moscow, Soviet Union | Government of Soviet Union, Government of Japan, Delegation %d\n\n", i%7)
		fmt.Fprintf(&b, "%s\n\nBackground\n\nRevision %d of the account.\n\nKey Figures\n\n", title, i)
		fmt.Fprintf(&b, "  • Vyacheslav Molotov: The Soviet foreign minister, who signed protocol %d.\n", i)
		fmt.Fprintf(&b, "  • %s: A diplomat who represented delegation %d.\n", envoys[(i/5)%len(envoys)], i%7)
		docs = append(docs, Document{File: fmt.Sprintf("doc-%03d.txt", i), Text: b.String()})
	}
	if n > 2 {
		docs = append(docs, Document{File: "again.txt", Text: docs[1].Text})
		crlf := "\ufeff" + strings.ReplaceAll(docs[2].Text, "\n", "\r\n") + "\r\n\r\n"
		docs = append(docs, Document{File: "crlf.txt", Text: crlf})
	}
	return docs
}

var envoys = []string{"Ivan Orlov", "Kenji Sato", "Pavel Lebedev", "Hiro Tanaka", "Oleg Sokolov", "Taro Yamada", "Boris Kozlov", "Jiro Suzuki"}

// importTime is the import time of every test import, so that the same
// imports give the same records.
var importTime = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// testConcurrentImports imports documents from several goroutines at once,
// then the same documents one by one, into a new store, in the order the
// first run committed them (read from its change log): the two archives
// must be equal record by record.
func testConcurrentImports(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	docs := ConcurrencyDocuments(36)
	conc := open(t)
	if _, err := conc.Put(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	reports := make([]*ingest.Report, len(docs))
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				rep, err := ingest.Import(ctx, conc, docs[i].File, []byte(docs[i].Text), ingest.Options{ImportTime: importTime})
				if err != nil {
					t.Errorf("concurrent import of %s: %v", docs[i].File, err)
					continue
				}
				reports[i] = rep
			}
		})
	}
	for i := range docs {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		return
	}
	CheckChangeLog(t, conc)

	// The order the imports committed in: that of their sources' creation.
	first := map[string]int64{}
	for _, e := range allChanges(t, conc) {
		if _, ok := first[e.Name]; !ok {
			first[e.Name] = e.Seq
		}
	}
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	seq := func(i int) int64 {
		for _, c := range reports[i].Changes {
			if c.Name == reports[i].Source && c.Kind == kindCreated {
				return first[c.Name]
			}
		}
		return 1 << 62 // changed nothing: anywhere after the import it repeats
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(min(max(seq(a)-seq(b), -1), 1)) })

	one := open(t)
	if _, err := one.Put(ctx, Fixture()); err != nil {
		t.Fatal(err)
	}
	for _, i := range order {
		if _, err := ingest.Import(ctx, one, docs[i].File, []byte(docs[i].Text), ingest.Options{ImportTime: importTime}); err != nil {
			t.Fatalf("import of %s: %v", docs[i].File, err)
		}
	}
	EqualArchives(t, one, conc)

	// The duplicate documents changed nothing and named the same source.
	n := len(docs)
	for _, i := range []int{n - 2, n - 1} {
		orig := reports[map[int]int{n - 2: 1, n - 1: 2}[i]]
		if reports[i].Source != orig.Source || reports[i].Event != orig.Event {
			t.Errorf("%s gave %s, %s; the same document gave %s, %s", docs[i].File, reports[i].Event, reports[i].Source, orig.Event, orig.Source)
		}
	}
	// The revisions of the shared event form one chain, newest first.
	shared, err := conc.GetEvent(ctx, "events/moscow-shared-conference")
	if err != nil {
		t.Fatal(err)
	}
	if want := (len(docs)-2+2)/3 + 0; len(shared.Sources) != want {
		t.Errorf("the shared event lists %d sources; %d revisions were imported", len(shared.Sources), want)
	}
	for k := 0; k+1 < len(shared.Sources); k++ {
		src, err := conc.GetSource(ctx, shared.Sources[k])
		if err != nil {
			t.Fatal(err)
		}
		if src.PreviousRevision != shared.Sources[k+1] {
			t.Errorf("%s's previous_revision is %q, want %q (the revision listed after it)", src.Name, src.PreviousRevision, shared.Sources[k+1])
		}
	}
	molotov, err := conc.GetActor(ctx, "actors/vyacheslav-molotov")
	if err != nil {
		t.Fatal(err)
	}
	events := listAll(t, conc, store.EventFilter{Actor: molotov.Name}, 0)
	var docSources int
	for _, s := range molotov.Sources {
		if strings.HasPrefix(s, "sources/") {
			docSources++
		}
	}
	if docSources < len(events)-1 {
		t.Errorf("Molotov lists %d sources but takes part in %d events", docSources, len(events))
	}
}

// ScriptDocuments are documents whose names are in Cyrillic, Greek, Arabic,
// Chinese, Japanese and mixed scripts, with titles, places, parties and key
// figures that spell alike in Latin letters or share words.
func ScriptDocuments() []Document {
	doc := func(file, date, place, parties, title string, figures ...string) Document {
		var b strings.Builder
		fmt.Fprintf(&b, "%s\n\nA summary.\n\n%s | %s\n\n%s\n\nKey Figures\n\n", date, place, parties, title)
		for _, f := range figures {
			fmt.Fprintf(&b, "  • %s: A person of note.\n", f)
		}
		return Document{File: file, Text: b.String()}
	}
	return []Document{
		doc("bitva.txt", "September 7, 1812", "Бородино, Россия", "Армия России, Великая армия", "Битва 1812", "Ivan Петров", "Михаил Кутузов"),
		doc("pozhar.txt", "September 14, 1812", "Москва, Россия", "Армия России", "Пожар 1812", "Ivan Сидоров"),
		doc("borodino.txt", "September 7, 1812", "Москва́, Россия", "Армия России", "Битва при Бородино", "Ivan Petrov"),
		doc("athens.txt", "April 6, 1896", "Αθήνα, Ελλάδα", "Ελληνική Ολυμπιακή Επιτροπή", "Ολυμπιακοί Αγώνες 1896", "Σπυρίδων Λούης"),
		doc("cairo.txt", "1869", "القاهرة, مصر", "الخديوية المصرية", "افتتاح قناة السويس", "إسماعيل باشا"),
		doc("libai.txt", "762", "当涂, 唐朝", "唐朝", "李白之死", "李白", "李柏"),
		doc("pact.txt", "April 13, 1941", "モスクワ, ソビエト連邦", "日本政府, ソビエト連邦政府", "日ソ中立条約", "松岡洋右", "建川美次"),
		doc("nomonhan.txt", "May 11, 1939", "ノモンハン, 満州国", "日本政府", "ノモンハン事件", "Georgy Жуков"),
	}
}

// testScripts imports documents in many scripts: every name becomes a
// record of its own, no two different names share one, no event overwrites
// another, every id is a valid name, and titles are found by full-text
// search, a Japanese one also by a run of its characters.
func testScripts(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	docs := ScriptDocuments()
	events := map[string]string{} // event name -> title
	for _, d := range docs {
		rep, err := ingest.Import(ctx, s, d.File, []byte(d.Text), ingest.Options{ImportTime: importTime})
		if err != nil {
			t.Fatalf("import of %s: %v", d.File, err)
		}
		for _, c := range rep.Changes {
			if c.Name == rep.Event && c.Kind != kindCreated {
				t.Errorf("%s: its event %s was %v; every document here is a different event", d.File, c.Name, c.Kind)
			}
		}
		doc, err := ingest.Parse(d.File, []byte(d.Text))
		if err != nil {
			t.Fatal(err)
		}
		title := doc.Event.Labels[0].Value
		if prev, ok := events[rep.Event]; ok {
			t.Errorf("%q and %q share %s", prev, title, rep.Event)
		}
		events[rep.Event] = title
		if _, _, err := resource.Parse(rep.Event); err != nil {
			t.Errorf("%s: event name %q: %v", d.File, rep.Event, err)
		}
		// Every party, place and key figure named is a record of its own,
		// found by its name.
		names := map[string]resource.Kind{}
		for _, a := range doc.Actors {
			names[a.Labels[0].Value] = resource.Actors
		}
		for _, p := range doc.Places {
			names[p.Labels[0].Value] = resource.Places
		}
		for label, k := range names {
			got, err := s.MatchNames(ctx, k, resource.MatchKey(label))
			if err != nil || len(got) != 1 {
				t.Errorf("%s: %q matches %v (%v); want exactly one record", d.File, label, got, err)
				continue
			}
			if _, _, err := resource.Parse(got[0]); err != nil {
				t.Errorf("%s: %q is %q: %v", d.File, label, got[0], err)
			}
		}
		found := listAll(t, s, store.EventFilter{Query: title}, 0)
		if !slices.Contains(found, rep.Event) {
			t.Errorf("a search for the title %q finds %v, not %s", title, found, rep.Event)
		}
	}
	// Different names never share a record.
	byName := map[string]string{}
	record := func(label string, k resource.Kind) {
		got, _ := s.MatchNames(ctx, k, resource.MatchKey(label))
		for _, n := range got {
			if other, ok := byName[n]; ok && resource.MatchKey(other) != resource.MatchKey(label) {
				t.Errorf("%q and %q share %s", other, label, n)
			}
			byName[n] = label
		}
	}
	for _, l := range []string{"Ivan Петров", "Ivan Сидоров", "Ivan Petrov", "李白", "李柏", "Армия России", "Россия", "Великая армия", "Михаил Кутузов"} {
		record(l, resource.Actors)
	}
	for _, l := range []string{"Москва", "Бородино", "当涂", "Αθήνα", "القاهرة", "モスクワ", "ノモンハン"} {
		record(l, resource.Places)
	}
	// "Москва́" (with a stress mark) is Москва.
	if a, b := resource.MatchKey("Москва́"), resource.MatchKey("Москва"); a != b {
		t.Errorf("MatchKey(Москва́) = %q, MatchKey(Москва) = %q", a, b)
	}
	for q, want := range map[string]string{"中立条約": "日ソ中立条約", "ノモンハン": "ノモンハン事件", "бородино": "Битва при Бородино", "Олимп*": "", "ολυμπιακοι": "Ολυμπιακοί Αγώνες 1896"} {
		found := listAll(t, s, store.EventFilter{Query: q}, 0)
		var titles []string
		for _, n := range found {
			titles = append(titles, events[n])
		}
		if want != "" && !slices.Contains(titles, want) {
			t.Errorf("a search for %q finds %q, not %q", q, titles, want)
		}
	}
	// A document of the same title but another date is another event.
	again := strings.Replace(docs[0].Text, "September 7, 1812", "August 26, 1813", 1)
	rep, err := ingest.Import(ctx, s, "bitva-1813.txt", []byte(again), ingest.Options{ImportTime: importTime})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := events[rep.Event]; ok {
		t.Errorf("a document titled %q dated 1813 overwrote %s (dated 1812)", "Битва 1812", rep.Event)
	}
	if len(rep.Warnings) == 0 || !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "another event") }) {
		t.Errorf("importing a second event of the same title warned %q; want a warning naming the other event", rep.Warnings)
	}
	ev, err := s.GetEvent(ctx, rep.Event)
	if err != nil || ev.GetDate().GetYear() != 1813 {
		t.Errorf("the 1813 event %s = %v, %v", rep.Event, ev, err)
	}
	first, err := s.GetEvent(ctx, "events/bitva-1812")
	if err != nil || first.GetDate().GetYear() != 1812 || first.GetDate().GetDay() != 7 {
		t.Errorf("events/bitva-1812 after the 1813 import = %v, %v; want the 1812 battle unchanged", first, err)
	}
	_ = annalsv1.ChangeKind_CHANGE_KIND_CREATED
}
