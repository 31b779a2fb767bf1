// The Go client of grpc-discovery: the generated stubs (gen/, written by
// `npm run generate`) and a small helper package (discovery/). The versions are
// the ones Debian 12 ships; the repository's tests build offline in GOPATH mode
// against /usr/share/gocode (see README "Clients").
module grpc-discovery/clients/go

go 1.19

require (
	github.com/golang/protobuf v1.5.2
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
