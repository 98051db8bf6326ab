package exporter

import (
	"fmt"

	"github.com/knakk/rdf"
)

// VocabPath is where Annals' own vocabulary lives under the base IRI: the
// namespace of its terms is {base}/vocab#, and {base}/vocab is the document
// that defines them (vocab.ttl beside this file, served by Annals' HTTP
// server), so that every annals: term dereferences where the data is
// published. The terms are the few classes and properties for which no
// established vocabulary has one (date precision nodes, "ended by",
// participant role types, …).
const VocabPath = "/vocab"

// vocabPlaceholder is the namespace the annals: terms below are declared in;
// an Exporter rewrites it to {base}/vocab# as triples are built (see
// builder.add), so the package-level terms serve every base.
const vocabPlaceholder = "urn:x-annals:vocab#"

// defaultVocabNS is the annals: namespace under DefaultBase, in which
// vocab.ttl and shapes.ttl are written; they are served for another base with
// it rewritten.
const defaultVocabNS = DefaultBase + VocabPath + "#"

// vocabulary is a namespace the mapping uses, with the prefix Turtle output
// declares for it.
type vocabulary struct {
	prefix string
	ns     string
}

// vocabularies lists every namespace whose terms the mapping emits, in the
// order void:vocabulary lists them. Each one is registered as a Turtle
// prefix: every local name the mapping emits in them is a plain name (letters,
// digits, "_" and "-" inside), which knakk/rdf writes correctly without
// escaping (see checkTurtle).
var vocabularies = []vocabulary{
	{"vann", "http://purl.org/vocab/vann/"},
	{"foaf", "http://xmlns.com/foaf/0.1/"},
	{"rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"},
	{"rdfs", "http://www.w3.org/2000/01/rdf-schema#"},
	{"xsd", "http://www.w3.org/2001/XMLSchema#"},
	{"owl", "http://www.w3.org/2002/07/owl#"},
	{"skos", "http://www.w3.org/2004/02/skos/core#"},
	{"schema", "http://schema.org/"},
	{"sem", "http://semanticweb.cs.vu.nl/2009/11/sem/"},
	{"wd", "http://www.wikidata.org/entity/"},
	{"wdt", "http://www.wikidata.org/prop/direct/"},
	{"wikibase", "http://wikiba.se/ontology#"},
	{"geo", "http://www.opengis.net/ont/geosparql#"},
	{"prov", "http://www.w3.org/ns/prov#"},
	{"dcterms", "http://purl.org/dc/terms/"},
	{"spdx", "http://spdx.org/rdf/terms#"},
	{"void", "http://rdfs.org/ns/void#"},
	{"dcat", "http://www.w3.org/ns/dcat#"},
	{"annals", vocabPlaceholder},
}

// vocabIndex maps the IRI of every vocabulary term declared below to the
// index of its vocabulary in vocabularies, so that Dataset can list the
// vocabularies an archive really uses. It is filled at package
// initialisation and never written afterwards.
var vocabIndex = map[string]int{}

// term makes the IRI of local name local in the vocabulary with prefix p.
func term(p, local string) rdf.IRI {
	for i, v := range vocabularies {
		if v.prefix == p {
			iri, err := rdf.NewIRI(v.ns + local)
			if err != nil || !safeLocal(local) {
				panic(fmt.Sprintf("exporter: bad vocabulary term %s:%s", p, local))
			}
			vocabIndex[iri.String()] = i
			return iri
		}
	}
	panic("exporter: unknown vocabulary prefix " + p)
}

// Terms of the mapping. MAPPING.md documents where each comes from.
var (
	rdfType  = term("rdf", "type")
	rdfValue = term("rdf", "value")

	rdfsLabel = term("rdfs", "label")

	vannPreferredNamespacePrefix = term("vann", "preferredNamespacePrefix")

	xsdString     = term("xsd", "string")
	xsdInteger    = term("xsd", "integer")
	xsdDecimal    = term("xsd", "decimal")
	xsdBoolean    = term("xsd", "boolean")
	xsdDateTime   = term("xsd", "dateTime")
	xsdDate       = term("xsd", "date")
	xsdGYearMonth = term("xsd", "gYearMonth")
	xsdGYear      = term("xsd", "gYear")
	xsdHexBinary  = term("xsd", "hexBinary")
	xsdNonNegInt  = term("xsd", "nonNegativeInteger")

	owlSameAs = term("owl", "sameAs")

	foafDocument     = term("foaf", "Document")
	foafOrganization = term("foaf", "Organization")
	foafPrimaryTopic = term("foaf", "primaryTopic")
	foafName         = term("foaf", "name")
	foafHomepage     = term("foaf", "homepage")

	skosAltLabel   = term("skos", "altLabel")
	skosCloseMatch = term("skos", "closeMatch")

	schemaEvent           = term("schema", "Event")
	schemaPerson          = term("schema", "Person")
	schemaOrganization    = term("schema", "Organization")
	schemaPlace           = term("schema", "Place")
	schemaGeoCoordinates  = term("schema", "GeoCoordinates")
	schemaCreativeWork    = term("schema", "CreativeWork")
	schemaArticle         = term("schema", "Article")
	schemaListItem        = term("schema", "ListItem")
	schemaImageObject     = term("schema", "ImageObject")
	schemaName            = term("schema", "name")
	schemaDescription     = term("schema", "description")
	schemaStartDate       = term("schema", "startDate")
	schemaEndDate         = term("schema", "endDate")
	schemaBirthDate       = term("schema", "birthDate")
	schemaDeathDate       = term("schema", "deathDate")
	schemaFoundingDate    = term("schema", "foundingDate")
	schemaDissolutionDate = term("schema", "dissolutionDate")
	schemaLocation        = term("schema", "location")
	schemaSuperEvent      = term("schema", "superEvent")
	schemaSubEvent        = term("schema", "subEvent")
	schemaImage           = term("schema", "image")
	schemaCaption         = term("schema", "caption")
	schemaSubjectOf       = term("schema", "subjectOf")
	schemaAbout           = term("schema", "about")
	schemaHasPart         = term("schema", "hasPart")
	schemaPosition        = term("schema", "position")
	schemaHeadline        = term("schema", "headline")
	schemaText            = term("schema", "text")
	schemaItem            = term("schema", "item")
	schemaJobTitle        = term("schema", "jobTitle")
	schemaMemberOf        = term("schema", "memberOf")
	schemaGeo             = term("schema", "geo")
	schemaLatitude        = term("schema", "latitude")
	schemaLongitude       = term("schema", "longitude")
	schemaContentURL      = term("schema", "contentUrl")
	schemaInLanguage      = term("schema", "inLanguage")

	semEvent              = term("sem", "Event")
	semActor              = term("sem", "Actor")
	semPlace              = term("sem", "Place")
	semRole               = term("sem", "Role")
	semHasActor           = term("sem", "hasActor")
	semHasPlace           = term("sem", "hasPlace")
	semRoleType           = term("sem", "roleType")
	semHasBeginTimeStamp  = term("sem", "hasBeginTimeStamp")
	semHasEndTimeStamp    = term("sem", "hasEndTimeStamp")
	semEarliestBegin      = term("sem", "hasEarliestBeginTimeStamp")
	semLatestBegin        = term("sem", "hasLatestBeginTimeStamp")
	semEarliestEnd        = term("sem", "hasEarliestEndTimeStamp")
	semLatestEnd          = term("sem", "hasLatestEndTimeStamp")
	wdGregorian           = wikidataEntity("Q1985727")
	wdJulian              = wikidataEntity("Q1985786")
	wdtPointInTime        = term("wdt", "P585")
	wdtStartTime          = term("wdt", "P580")
	wdtEndTime            = term("wdt", "P582")
	wdtLocation           = term("wdt", "P276")
	wdtParticipant        = term("wdt", "P710")
	wdtSignatory          = term("wdt", "P1891")
	wdtFollows            = term("wdt", "P155")
	wdtFollowedBy         = term("wdt", "P156")
	wdtHasCause           = term("wdt", "P828")
	wdtHasEffect          = term("wdt", "P1542")
	wdtPartOf             = term("wdt", "P361")
	wdtHasPart            = term("wdt", "P527")
	wdtCountry            = term("wdt", "P17")
	wdtCoordinates        = term("wdt", "P625")
	wdtDateOfBirth        = term("wdt", "P569")
	wdtDateOfDeath        = term("wdt", "P570")
	wdtInception          = term("wdt", "P571")
	wdtDissolved          = term("wdt", "P576")
	wikibaseTimeValue     = term("wikibase", "TimeValue")
	wikibaseTimeValueProp = term("wikibase", "timeValue")
	wikibasePrecision     = term("wikibase", "timePrecision")
	wikibaseTimezone      = term("wikibase", "timeTimezone")
	wikibaseCalendar      = term("wikibase", "timeCalendarModel")

	geoWKTLiteral = term("geo", "wktLiteral")

	provEntity          = term("prov", "Entity")
	provWasDerivedFrom  = term("prov", "wasDerivedFrom")
	provGeneratedAtTime = term("prov", "generatedAtTime")
	provWasRevisionOf   = term("prov", "wasRevisionOf")
	provGenerated       = term("prov", "generated")
	provWasGeneratedBy  = term("prov", "wasGeneratedBy")

	dctermsTitle       = term("dcterms", "title")
	dctermsLicense     = term("dcterms", "license")
	dctermsModified    = term("dcterms", "modified")
	dctermsRelation    = term("dcterms", "relation")
	dctermsDescription = term("dcterms", "description")
	dctermsPublisher   = term("dcterms", "publisher")
	dctermsIssued      = term("dcterms", "issued")
	dctermsFormat      = term("dcterms", "format")

	spdxChecksum       = term("spdx", "checksum")
	spdxChecksumClass  = term("spdx", "Checksum")
	spdxAlgorithm      = term("spdx", "algorithm")
	spdxChecksumValue  = term("spdx", "checksumValue")
	spdxAlgorithSHA256 = term("spdx", "checksumAlgorithm_sha256")

	voidDataset         = term("void", "Dataset")
	voidTriples         = term("void", "triples")
	voidDataDump        = term("void", "dataDump")
	voidVocabulary      = term("void", "vocabulary")
	voidExampleResource = term("void", "exampleResource")
	voidURISpace        = term("void", "uriSpace")
	voidFeature         = term("void", "feature")
	voidEntities        = term("void", "entities")
	voidClasses         = term("void", "classes")
	voidProperties      = term("void", "properties")
	voidClassPartition  = term("void", "classPartition")
	voidPropPartition   = term("void", "propertyPartition")
	voidClass           = term("void", "class")
	voidProperty        = term("void", "property")
	voidLinkset         = term("void", "Linkset")
	voidSubset          = term("void", "subset")
	voidLinkPredicate   = term("void", "linkPredicate")
	voidSubjectsTarget  = term("void", "subjectsTarget")
	voidObjectsTarget   = term("void", "objectsTarget")
	voidSPARQLEndpoint  = term("void", "sparqlEndpoint")

	dcatDataset      = term("dcat", "Dataset")
	dcatDistribution = term("dcat", "Distribution")
	dcatDistribProp  = term("dcat", "distribution")
	dcatDownloadURL  = term("dcat", "downloadURL")
	dcatMediaType    = term("dcat", "mediaType")
	dcatLandingPage  = term("dcat", "landingPage")
	dcatByteSize     = term("dcat", "byteSize")
	dcatCompress     = term("dcat", "compressFormat")

	annalsStartDateValue = term("annals", "startDateValue")
	annalsEndDateValue   = term("annals", "endDateValue")
	annalsEndedBy        = term("annals", "endedBy")
	annalsEnds           = term("annals", "ends")
	annalsStyle          = term("annals", "style")
	annalsCaptionYear    = term("annals", "captionYear")
	annalsNameAsWritten  = term("annals", "nameAsWritten")
	annalsUnreconciled   = term("annals", "unreconciled")
	annalsArticleSection = term("annals", "ArticleSection")
	annalsEndUnknown     = term("annals", "endUnknown")
	annalsState          = term("annals", "state")
	annalsCountry        = term("annals", "country")
	annalsSignedDocument = term("annals", "SignedDocument")
)

// roleTypes are the role concepts (sem:RoleType instances in Annals'
// vocabulary) of each participant role, and the slug used in role node IRIs.
var roleTypes = map[int32]struct {
	slug string
	iri  rdf.IRI
}{
	0: {"participant", term("annals", "Participant")},
	1: {"party", term("annals", "Party")},
	2: {"signatory", term("annals", "Signatory")},
	3: {"representative", term("annals", "Representative")},
	4: {"commander", term("annals", "Commander")},
	5: {"victim", term("annals", "Victim")},
	6: {"key-figure", term("annals", "KeyFigure")},
}

// Fixed IRIs outside the registered namespaces; knakk/rdf writes them in full.
var (
	licenseCCBYSA4 = mustIRI("https://creativecommons.org/licenses/by-sa/4.0/")
	formatTurtle   = mustIRI("http://www.w3.org/ns/formats/Turtle")
	formatNTriples = mustIRI("http://www.w3.org/ns/formats/N-Triples")
	formatJSONLD   = mustIRI("http://www.w3.org/ns/formats/JSON-LD")
	mediaTurtle    = mustIRI("https://www.iana.org/assignments/media-types/text/turtle")
	mediaNTriples  = mustIRI("https://www.iana.org/assignments/media-types/application/n-triples")
	mediaJSONLD    = mustIRI("https://www.iana.org/assignments/media-types/application/ld+json")
	mediaHTML      = mustIRI("https://www.iana.org/assignments/media-types/text/html")
	mediaGzip      = mustIRI("https://www.iana.org/assignments/media-types/application/gzip")
	wikidataHome   = mustIRI("https://www.wikidata.org/")
)

func mustIRI(s string) rdf.IRI {
	iri, err := rdf.NewIRI(s)
	if err != nil {
		panic("exporter: " + err.Error())
	}
	return iri
}

// wikidataEntity returns the entity IRI http://www.wikidata.org/entity/{id}.
// id must be valid (see validQID).
func wikidataEntity(id string) rdf.IRI {
	return mustIRI("http://www.wikidata.org/entity/" + id)
}

// validQID reports whether id is a Wikidata item id: "Q" and a number
// without leading zeros.
func validQID(id string) bool {
	if len(id) < 2 || len(id) > 20 || id[0] != 'Q' || id[1] == '0' {
		return false
	}
	for i := 1; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
