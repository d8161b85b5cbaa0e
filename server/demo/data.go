package demo

import "github.com/schulit/cmdb/server/cmdb"

// This file holds the static part of the demo: the schools of Landkreis
// Musterstadt with their buildings and rooms, and the device models the
// authority buys. Serial patterns use n for a digit, a for a letter, x for
// a letter or digit and h for a hex digit; every other rune is literal.

// Kinds of room; they decide which devices a room gets.
const (
	kClass    = iota // classroom: board, document camera, teacher PC
	kPC              // computer lab: N desktops, printer, board, AP, switch
	kOffice          // Sekretariat: N desktops, MFP, printer
	kHead            // Schulleitung: one laptop, printer
	kStaff           // Lehrerzimmer: N desktops, MFP, AP, the school's laptop pool
	kLab             // Fachraum: board, document camera, desktop, AP
	kHall            // Aula: projector, AP, streaming box
	kLib             // Bibliothek: N desktops, printer, AP
	kServer          // Serverraum: switches, NAS, UPS
	kStore           // Lager: stock and retired devices
	kGym             // Turnhalle: AP only
	kWorkshop        // Werkstatt: N desktops, display, AP, Raspberry Pis
)

type roomDef struct {
	Code, Name string
	Tag        string // hostname part; default "R" + code without dots
	Kind       int
	N          int // desktops in the room
	Tablets    int // tablets (a cart) kept in the room
}

type buildingDef struct {
	Code, Name string
	Rooms      []roomDef
}

type schoolDef struct {
	Code    string // official school number
	Short   string // prefix of asset tags and hostnames
	Name    string
	Net     int // second octet of the school network
	Laptops int // teacher laptop pool (DigitalPakt Lehrerendgeräte)
	// Lines lists the model keys the school buys, per class.
	Lines     map[string][]string
	Buildings []buildingDef
}

type model struct {
	Vendor      string // as the authority's export spells it
	Name        string
	Serial      string // pattern, see above
	OUIs        []string
	AgentVendor string // as the agent reports it (SMBIOS)
	AgentModel  string
	CPUs        []string
	Color       bool // printers: colour supplies
	MACSerial   bool // the serial is the MAC (Ubiquiti)
}

var (
	ouiIntelWiFi = []string{"a0:36:9f", "8c:8d:28", "f8:94:c2"}
	ouiDock      = []string{"9c:eb:e8", "e4:54:e8"}
	ouiHyperV    = "00:15:5d"
)

var catalogue = map[string]*model{
	// Laptops.
	"lat5440": {Vendor: "Dell", Name: "Latitude 5440", Serial: "xxxxxxx", OUIs: []string{"a4:bb:6d", "54:bf:64"}, AgentVendor: "Dell Inc.",
		AgentModel: "Latitude 5440", CPUs: []string{"13th Gen Intel(R) Core(TM) i5-1345U", "13th Gen Intel(R) Core(TM) i7-1365U"}},
	"lat3540": {Vendor: "Dell", Name: "Latitude 3540", Serial: "xxxxxxx", OUIs: []string{"a4:bb:6d", "b0:4f:13"}, AgentVendor: "Dell Inc.",
		AgentModel: "Latitude 3540", CPUs: []string{"13th Gen Intel(R) Core(TM) i5-1335U"}},
	"pb450": {Vendor: "HP", Name: "ProBook 450 G9", Serial: "5CDnnnxxxx", OUIs: []string{"3c:d9:2b", "70:5a:0f"}, AgentVendor: "HP",
		AgentModel: "HP ProBook 450 15.6 inch G9 Notebook PC", CPUs: []string{"12th Gen Intel(R) Core(TM) i5-1235U"}},
	"tpl14": {Vendor: "Lenovo", Name: "ThinkPad L14 Gen 3", Serial: "PFxxxxxx", OUIs: []string{"54:e1:ad", "98:fa:9b"}, AgentVendor: "LENOVO",
		AgentModel: "ThinkPad L14 Gen 3", CPUs: []string{"AMD Ryzen 5 PRO 5675U with Radeon Graphics", "12th Gen Intel(R) Core(TM) i5-1235U"}},
	"tpt14": {Vendor: "Lenovo", Name: "ThinkPad T14 Gen 3", Serial: "PFxxxxxx", OUIs: []string{"54:e1:ad", "8c:16:45"}, AgentVendor: "LENOVO",
		AgentModel: "ThinkPad T14 Gen 3", CPUs: []string{"12th Gen Intel(R) Core(TM) i7-1255U"}},
	// Desktops.
	"opt7010": {Vendor: "Dell", Name: "OptiPlex 7010 SFF", Serial: "xxxxxxx", OUIs: []string{"a4:bb:6d", "b0:4f:13"}, AgentVendor: "Dell Inc.",
		AgentModel: "OptiPlex 7010", CPUs: []string{"13th Gen Intel(R) Core(TM) i5-13500"}},
	"ed800": {Vendor: "HP", Name: "EliteDesk 800 G6 SFF", Serial: "CZCnnnxxxx", OUIs: []string{"3c:d9:2b", "94:57:a5"}, AgentVendor: "HP",
		AgentModel: "HP EliteDesk 800 G6 Small Form Factor PC", CPUs: []string{"Intel(R) Core(TM) i5-10500 CPU @ 3.10GHz"}},
	"m70q": {Vendor: "Lenovo", Name: "ThinkCentre M70q Gen 3", Serial: "MJxxxxxx", OUIs: []string{"98:fa:9b", "8c:16:45"}, AgentVendor: "LENOVO",
		AgentModel: "ThinkCentre M70q Gen 3", CPUs: []string{"12th Gen Intel(R) Core(TM) i5-12400T"}},
	"d7012": {Vendor: "Fujitsu", Name: "ESPRIMO D7012", Serial: "YMaannnnnn", OUIs: []string{"4c:52:62", "00:19:99"},
		AgentVendor: "FUJITSU CLIENT COMPUTING LIMITED", AgentModel: "ESPRIMO D7012", CPUs: []string{"12th Gen Intel(R) Core(TM) i5-12500"}},
	"terra": {Vendor: "TERRA", Name: "PC-BUSINESS 6000 Silent", Serial: "1nnnnnnnnn", OUIs: []string{"04:d9:f5", "a0:36:9f"},
		AgentVendor: "WORTMANN AG", AgentModel: "1009876", CPUs: []string{"Intel(R) Core(TM) i5-12400", "Intel(R) Core(TM) i3-12100"}},
	// Tablets.
	"ipad9":  {Vendor: "Apple", Name: "iPad (9th generation)", Serial: "xxxxxxxxxx", OUIs: []string{"f0:18:98", "3c:22:fb", "ac:bc:32"}},
	"ipad10": {Vendor: "Apple", Name: "iPad (10th generation)", Serial: "xxxxxxxxxxxx", OUIs: []string{"f0:18:98", "ac:bc:32"}},
	"tabA8":  {Vendor: "Samsung", Name: "Galaxy Tab A8", Serial: "R52xxxxxxxx", OUIs: []string{"8c:71:f8", "ac:5f:3e"}},
	"tabS6":  {Vendor: "Samsung", Name: "Galaxy Tab S6 Lite", Serial: "R52xxxxxxxx", OUIs: []string{"84:25:19", "ac:5f:3e"}},
	// Printers.
	"lj404":  {Vendor: "HP", Name: "LaserJet Pro M404dn", Serial: "VNBnanxnnn", OUIs: []string{"3c:52:82", "10:e7:c6"}},
	"clj454": {Vendor: "HP", Name: "Color LaserJet Pro M454dw", Serial: "CNBnanxnnn", OUIs: []string{"3c:52:82", "10:e7:c6"}, Color: true},
	"hl5100": {Vendor: "Brother", Name: "HL-L5100DN", Serial: "E7nnnnannannnnn", OUIs: []string{"00:80:77", "30:05:5c"}},
	"ms521":  {Vendor: "Lexmark", Name: "MS521dn", Serial: "4514nnnnnnn", OUIs: []string{"00:04:00", "00:21:b7"}},
	"p2235":  {Vendor: "Kyocera", Name: "ECOSYS P2235dn", Serial: "VCFnannnnn", OUIs: []string{"00:c0:ee", "00:17:c8"}},
	// Multi-function printers.
	"m3655":   {Vendor: "Kyocera", Name: "ECOSYS M3655idn", Serial: "RVHnannnnn", OUIs: []string{"00:c0:ee", "00:17:c8"}},
	"ta2554":  {Vendor: "Kyocera", Name: "TASKalfa 2554ci", Serial: "W8Nnannnnn", OUIs: []string{"00:c0:ee"}, Color: true},
	"irc3826": {Vendor: "Canon", Name: "imageRUNNER ADVANCE DX C3826i", Serial: "aaannnnn", OUIs: []string{"00:1e:8f", "18:0c:ac"}, Color: true},
	"imc3000": {Vendor: "Ricoh", Name: "IM C3000", Serial: "3nnnRnnnnnn", OUIs: []string{"00:26:73", "58:38:79"}, Color: true},
	"mfc8900": {Vendor: "Brother", Name: "MFC-L8900CDW", Serial: "E8nnnnannannnnn", OUIs: []string{"00:80:77", "30:05:5c"}, Color: true},
	// Projectors.
	"eb695":  {Vendor: "Epson", Name: "EB-695Wi", Serial: "Xnaannnnnnn", OUIs: []string{"64:eb:8c", "a4:ee:57"}},
	"ebl210": {Vendor: "Epson", Name: "EB-L210W", Serial: "Xnaannnnnnn", OUIs: []string{"64:eb:8c", "a4:ee:57"}},
	"mw560":  {Vendor: "BenQ", Name: "MW560", Serial: "PDaannnnnnn", OUIs: []string{"00:17:7c"}},
	"me403":  {Vendor: "NEC", Name: "ME403U", Serial: "nannnnnEG", OUIs: []string{"30:9c:23"}},
	// Interactive displays.
	"ap9-75": {Vendor: "Promethean", Name: `ActivPanel 9 75"`, Serial: "PRMnnnnnnnnnn", OUIs: []string{"00:26:22"}},
	"ap9-86": {Vendor: "Promethean", Name: `ActivPanel 9 Premium 86"`, Serial: "PRMnnnnnnnnnn", OUIs: []string{"00:26:22"}},
	"smart":  {Vendor: "SMART Technologies", Name: "SMART Board MX275-V3", Serial: "SBIDnxnnnnnnn", OUIs: []string{"00:0f:d3"}},
	"flip":   {Vendor: "Samsung", Name: "Flip 2 WM65R", Serial: "0aaannnnnnnnnna", OUIs: []string{"8c:71:f8", "84:25:19"}},
	// Document cameras.
	"v4k":  {Vendor: "IPEVO", Name: "V4K", Serial: "V4Knnnnnnnn"},
	"mxp3": {Vendor: "ELMO", Name: "MX-P3", Serial: "nnnnnnnn"},
	// Access points.
	"lx6402": {Vendor: "LANCOM", Name: "LX-6402", Serial: "4003nnnnnnnnnnnn", OUIs: []string{"00:a0:57"}},
	"u6pro":  {Vendor: "Ubiquiti", Name: "UniFi U6 Pro", OUIs: []string{"24:5a:4c", "74:83:c2", "f0:9f:c2"}, MACSerial: true},
	"u6lite": {Vendor: "Ubiquiti", Name: "UniFi U6 Lite", OUIs: []string{"24:5a:4c", "74:83:c2"}, MACSerial: true},
	"ap505":  {Vendor: "Aruba", Name: "AP-505", Serial: "CNaxxxxxxx", OUIs: []string{"20:4c:03", "94:b4:0f"}},
	// Switches.
	"a2930":  {Vendor: "HP Aruba", Name: "Aruba 2930F 24G PoE+ 4SFP+", Serial: "SGaanxxxxx", OUIs: []string{"20:4c:03", "94:b4:0f"}},
	"c1000":  {Vendor: "Cisco", Name: "Catalyst 1000-24P-4G-L", Serial: "FOCnnnnxxxx", OUIs: []string{"00:1b:54", "70:0f:6a", "f8:7b:20"}},
	"gs2326": {Vendor: "LANCOM", Name: "GS-2326P+", Serial: "4004nnnnnnnnnnnn", OUIs: []string{"00:a0:57"}},
	"usw24":  {Vendor: "Ubiquiti", Name: "UniFi Switch Pro 24 PoE", OUIs: []string{"24:5a:4c", "f0:9f:c2"}, MACSerial: true},
	// Other.
	"ds220":   {Vendor: "Synology", Name: "DiskStation DS220+", Serial: "nnnnaaannnnnn", OUIs: []string{"00:11:32"}},
	"ups":     {Vendor: "APC", Name: "Smart-UPS 1500", Serial: "ASnnnnnnnnnn", OUIs: []string{"00:c0:b7"}},
	"appletv": {Vendor: "Apple", Name: "Apple TV 4K", Serial: "xxxxxxxxxx", OUIs: []string{"f0:18:98", "3c:22:fb"}},
	"rpi4":    {Vendor: "Raspberry Pi Ltd", Name: "Raspberry Pi 4 Model B", Serial: "10000000hhhhhhhh", OUIs: []string{"dc:a6:32", "e4:5f:01"}},
}

// lines builds a school's purchasing lines: the defaults with overrides.
func lines(over map[string][]string) map[string][]string {
	l := map[string][]string{
		cmdb.ClassPrinter: {"lj404", "p2235"}, cmdb.ClassMFP: {"m3655"}, cmdb.ClassProjector: {"eb695", "ebl210"},
		cmdb.ClassDisplay: {"ap9-75"}, cmdb.ClassDocumentCamera: {"v4k", "mxp3"}, cmdb.ClassAccessPoint: {"lx6402"},
		cmdb.ClassSwitch: {"gs2326"}, cmdb.ClassTablet: {"ipad9"},
	}
	for k, v := range over {
		l[k] = v
	}
	return l
}

var schools = []*schoolDef{
	{Code: "40123", Short: "FSG", Name: "Friedrich-Schiller-Gymnasium", Net: 41, Laptops: 32,
		Lines: lines(map[string][]string{cmdb.ClassDesktop: {"d7012"}, cmdb.ClassLaptop: {"lat5440"},
			cmdb.ClassDisplay: {"ap9-75", "ap9-86"}, cmdb.ClassTablet: {"ipad9", "ipad10"}, cmdb.ClassMFP: {"m3655", "ta2554"}}),
		Buildings: []buildingDef{
			{Code: "A", Name: "Haus A", Rooms: []roomDef{
				{Code: "0.01", Name: "Sekretariat", Tag: "SEK", Kind: kOffice, N: 2},
				{Code: "0.02", Name: "Schulleitung", Tag: "SL", Kind: kHead},
				{Code: "0.05", Name: "Lehrerzimmer", Tag: "LZ", Kind: kStaff, N: 4},
				{Code: "0.09", Name: "Lager IT", Kind: kStore},
				{Code: "0.10", Name: "Aula", Kind: kHall},
				{Code: "0.11", Name: "Serverraum", Kind: kServer},
				{Code: "1.12", Name: "Raum 1.12", Kind: kClass, Tablets: 16},
				{Code: "1.14", Name: "Raum 1.14", Kind: kClass},
				{Code: "1.16", Name: "Raum 1.16", Kind: kClass},
				{Code: "1.18", Name: "Raum 1.18", Kind: kClass},
				{Code: "2.10", Name: "PC-Kabinett 1", Kind: kPC, N: 16},
				{Code: "2.11", Name: "PC-Kabinett 2", Kind: kPC, N: 16},
				{Code: "2.12", Name: "Raum 2.12", Kind: kClass, Tablets: 16},
				{Code: "2.14", Name: "Raum 2.14", Kind: kClass},
			}},
			{Code: "B", Name: "Haus B (Naturwissenschaften)", Rooms: []roomDef{
				{Code: "B1.01", Name: "Physik-Fachraum", Kind: kLab},
				{Code: "B1.02", Name: "Chemie-Fachraum", Kind: kLab},
				{Code: "B1.05", Name: "Biologie-Fachraum", Kind: kLab},
				{Code: "B2.01", Name: "Bibliothek", Tag: "BIB", Kind: kLib, N: 4},
				{Code: "B2.03", Name: "Musikraum", Kind: kClass},
				{Code: "B2.05", Name: "Kunstraum", Kind: kClass},
			}},
			{Code: "TH", Name: "Turnhalle", Rooms: []roomDef{
				{Code: "TH.02", Name: "Sportlehrerzimmer", Kind: kGym},
			}},
		}},
	{Code: "40456", Short: "GSP", Name: "Grundschule am Park", Net: 42, Laptops: 8,
		Lines: lines(map[string][]string{cmdb.ClassDesktop: {"terra"}, cmdb.ClassLaptop: {"lat3540"}, cmdb.ClassPrinter: {"hl5100"},
			cmdb.ClassMFP: {"mfc8900"}, cmdb.ClassProjector: {"mw560"}, cmdb.ClassAccessPoint: {"u6lite"}, cmdb.ClassSwitch: {"usw24"}}),
		Buildings: []buildingDef{
			{Code: "H", Name: "Hauptgebäude", Rooms: []roomDef{
				{Code: "E.01", Name: "Sekretariat", Tag: "SEK", Kind: kOffice, N: 1},
				{Code: "E.02", Name: "Lehrerzimmer", Tag: "LZ", Kind: kStaff, N: 2},
				{Code: "E.03", Name: "Hausmeister / Technik", Kind: kServer},
				{Code: "E.04", Name: "Hort", Kind: kClass},
				{Code: "1.01", Name: "Klasse 1a", Kind: kClass},
				{Code: "1.02", Name: "Klasse 1b", Kind: kClass, Tablets: 12},
				{Code: "1.03", Name: "Klasse 2a", Kind: kClass},
				{Code: "1.04", Name: "Klasse 2b", Kind: kClass},
				{Code: "2.01", Name: "Klasse 3a", Kind: kClass, Tablets: 12},
				{Code: "2.02", Name: "Klasse 4a", Kind: kClass},
				{Code: "2.05", Name: "Computerraum", Tag: "CR", Kind: kPC, N: 10},
			}},
		}},
	{Code: "40789", Short: "OSS", Name: "Oberschule Stolpen", Net: 43, Laptops: 16,
		Lines: lines(map[string][]string{cmdb.ClassDesktop: {"opt7010"}, cmdb.ClassLaptop: {"tpl14"}, cmdb.ClassPrinter: {"ms521", "lj404"},
			cmdb.ClassProjector: {"eb695", "me403"}, cmdb.ClassDisplay: {"smart"}, cmdb.ClassAccessPoint: {"ap505"}, cmdb.ClassSwitch: {"a2930"},
			cmdb.ClassTablet: {"ipad9"}, cmdb.ClassMFP: {"imc3000"}}),
		Buildings: []buildingDef{
			{Code: "HG", Name: "Hauptgebäude", Rooms: []roomDef{
				{Code: "001", Name: "Sekretariat", Tag: "SEK", Kind: kOffice, N: 2},
				{Code: "002", Name: "Lehrerzimmer", Tag: "LZ", Kind: kStaff, N: 3},
				{Code: "003", Name: "Schulleitung", Tag: "SL", Kind: kHead},
				{Code: "004", Name: "Serverraum", Kind: kServer},
				{Code: "101", Name: "Raum 101", Kind: kClass},
				{Code: "102", Name: "Raum 102", Kind: kClass, Tablets: 16},
				{Code: "103", Name: "Raum 103", Kind: kClass},
				{Code: "201", Name: "Raum 201", Kind: kClass},
				{Code: "202", Name: "Raum 202", Kind: kClass},
			}},
			{Code: "NB", Name: "Neubau", Rooms: []roomDef{
				{Code: "N1.01", Name: "PC-Kabinett", Kind: kPC, N: 16},
				{Code: "N1.02", Name: "Technikraum", Kind: kWorkshop, N: 2},
				{Code: "N1.03", Name: "Physik-Fachraum", Kind: kLab},
				{Code: "N2.01", Name: "Bibliothek", Tag: "BIB", Kind: kLib, N: 3},
				{Code: "N0.01", Name: "Lager", Kind: kStore},
			}},
		}},
	{Code: "41012", Short: "BSZ", Name: "Berufsschulzentrum Musterstadt", Net: 44, Laptops: 28,
		Lines: lines(map[string][]string{cmdb.ClassDesktop: {"ed800"}, cmdb.ClassLaptop: {"pb450"}, cmdb.ClassPrinter: {"lj404", "clj454"},
			cmdb.ClassMFP: {"irc3826", "m3655"}, cmdb.ClassDisplay: {"flip", "ap9-86"}, cmdb.ClassAccessPoint: {"u6pro"}, cmdb.ClassSwitch: {"c1000"},
			cmdb.ClassTablet: {"tabS6"}}),
		Buildings: []buildingDef{
			{Code: "A", Name: "Haus A (Verwaltung)", Rooms: []roomDef{
				{Code: "A0.01", Name: "Sekretariat", Tag: "SEK", Kind: kOffice, N: 3},
				{Code: "A0.02", Name: "Schulleitung", Tag: "SL", Kind: kHead},
				{Code: "A0.04", Name: "Lehrerzimmer", Tag: "LZ", Kind: kStaff, N: 4},
				{Code: "A0.06", Name: "Serverraum", Kind: kServer},
				{Code: "A1.01", Name: "EDV-Raum 1", Kind: kPC, N: 16},
				{Code: "A1.02", Name: "EDV-Raum 2", Kind: kPC, N: 16},
				{Code: "A1.03", Name: "EDV-Raum 3 (CAD)", Kind: kPC, N: 12},
				{Code: "A2.01", Name: "Raum A2.01", Kind: kClass, Tablets: 16},
				{Code: "A2.02", Name: "Raum A2.02", Kind: kClass, Tablets: 16},
			}},
			{Code: "W", Name: "Werkstattgebäude", Rooms: []roomDef{
				{Code: "W0.01", Name: "Werkstatt Elektrotechnik", Kind: kWorkshop, N: 4},
				{Code: "W0.02", Name: "Werkstatt Metall", Kind: kWorkshop, N: 2},
				{Code: "W1.01", Name: "Labor Automatisierung", Kind: kWorkshop, N: 6},
			}},
			{Code: "C", Name: "Haus C", Rooms: []roomDef{
				{Code: "C0.01", Name: "Aula", Kind: kHall},
				{Code: "C0.10", Name: "Bibliothek", Tag: "BIB", Kind: kLib, N: 6},
				{Code: "C1.10", Name: "Raum C1.10", Kind: kClass},
				{Code: "C1.12", Name: "Raum C1.12", Kind: kClass},
				{Code: "C0.05", Name: "Lager", Kind: kStore},
			}},
		}},
	{Code: "40987", Short: "FSR", Name: "Förderschule Regenbogen", Net: 45, Laptops: 6,
		Lines: lines(map[string][]string{cmdb.ClassDesktop: {"m70q"}, cmdb.ClassLaptop: {"tpt14"}, cmdb.ClassTablet: {"ipad10", "tabA8"},
			cmdb.ClassDisplay: {"ap9-75"}, cmdb.ClassAccessPoint: {"u6lite"}, cmdb.ClassSwitch: {"gs2326"}}),
		Buildings: []buildingDef{
			{Code: "H", Name: "Hauptgebäude", Rooms: []roomDef{
				{Code: "E.01", Name: "Sekretariat", Tag: "SEK", Kind: kOffice, N: 1},
				{Code: "E.02", Name: "Lehrerzimmer", Tag: "LZ", Kind: kStaff, N: 2},
				{Code: "E.03", Name: "Therapieraum", Kind: kClass, Tablets: 6},
				{Code: "E.05", Name: "Lehrküche", Kind: kClass},
				{Code: "E.06", Name: "Snoezelenraum", Kind: kGym},
				{Code: "1.01", Name: "Klassenraum Unterstufe", Kind: kClass, Tablets: 8},
				{Code: "1.02", Name: "Klassenraum Mittelstufe", Kind: kClass},
				{Code: "1.03", Name: "Klassenraum Oberstufe", Kind: kClass, Tablets: 8},
				{Code: "1.04", Name: "Werkstufe", Kind: kClass},
				{Code: "1.06", Name: "Technik", Kind: kServer},
			}},
		}},
}
