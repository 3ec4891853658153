// Command etcd is upstream etcd's server/main.go: etcd's own go.mod has local replace
// directives, so `go install go.etcd.io/etcd/server/v3@...` refuses; this wrapper builds it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
