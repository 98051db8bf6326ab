package ingest

// Invented documents for the tests. They follow the seed format but describe
// no real event.

// docBCE is dated before the common era and names its people under "Key People".
const docBCE = `March 15, 44 BC

A council of elders in the river city agreed on the sharing of the harbour tolls.

Harbour Hall, Republic of Tessa | Republic of Tessa, Guild of Boatmen

Oil painting of the harbour hall at dawn (44 BC)

The Harbour Toll Accord

In the spring of 44 BC the elders of the river city met in the harbour hall to settle a long quarrel over tolls.

The Quarrel

For a generation the boatmen had paid the city twice for the same mooring.

Key People

  - Marcus Verus: The elder who signed the accord for the city.
  * General Titus Albus: Commander of the harbour watch, who represented the guild at the meeting.
  • Livia Orra: A merchant whose letters record the debate.
`

// docYear is known to the year only and has no key figures.
const docYear = `1066

A fair was held on the green for the first time.

Ashford Green, Kingdom of Wessel | Kingdom of Wessel

The First Green Fair

The first fair on the green brought traders from three valleys.

Stalls and Trades

Weavers, potters and smiths set out their stalls in rows.

Later Fairs

The fair was held every year after.

"We will meet again next year."
`

// docMonth is known to the month and has a caption without a year-free style.
const docMonth = `June 1815

Two valley towns agreed to share a bridge.

Lowbridge | Town of Upton, Town of Downing

Engraving showing the bridge in flood (1815)

The Lowbridge Agreement

Terms

The towns would share the cost of repairs.
  - Upkeep: paid in equal halves.
  - Tolls: none.

Key figures

• Mayor Anne Pell: Represented Upton at the meeting.
• Tom Reed: Carried the letters between the towns.
`

// docDayFirst has a day-first date with an abbreviated month and no summary.
const docDayFirst = `13 Apr. 1941

Moscow, Soviet Union | Government of Soviet Union

Test Event With Day First Date
`

// testDocs are the invented documents by name, for table tests and the fuzz corpus.
var testDocs = map[string]string{
	"bce.txt":      docBCE,
	"year.txt":     docYear,
	"month.txt":    docMonth,
	"dayfirst.txt": docDayFirst,
}
