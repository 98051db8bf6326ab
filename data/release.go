package data

import "time"

// Released is when the bundled dataset was released: the day its files last
// changed. The bundled seed documents are stored with it as their
// import_time, so that every database loaded from the same bundle holds the
// same records whenever it was loaded, and two installs of the same data
// export the same bytes (the dataset's issued and modified dates come from
// these times, never from the clock).
//
// Whoever changes a file of the bundle sets Released to the day of the
// change and ReleasedVersion to the new Bundle.Version; TestReleaseDated
// fails until both are set.
var Released = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// ReleasedVersion is the Bundle.Version that Released dates.
const ReleasedVersion = "7abf724d7822d896"
