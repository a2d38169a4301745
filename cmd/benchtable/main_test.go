package main

import (
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	in := `goos: linux
BenchmarkRoutes/GET_/v1/sites/{siteId}-2         	      20	    809259 ns/op	         4.000 RRU/op	         1.727 USD/1M-requests	         0 WRU/op	         4.000 itemsRead/op	         0 itemsWritten/op	         1.000 roundtrips/op
BenchmarkRoutes/PATCH_/v1/partner              	      20	   7015827 ns/op	         3.000 RRU/op	         3.996 USD/1M-requests	         3.800 WRU/op	         3.000 itemsRead/op	         1.900 itemsWritten/op	         1.950 roundtrips/op
PASS
`
	rows, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	format(&out, rows)
	want := "| route | round trips | items read | items written | RRU | WRU | USD per 1M requests |\n" +
		"|---|--:|--:|--:|--:|--:|--:|\n" +
		"| `GET /v1/sites/{siteId}` | 1 | 4 | 0 | 4 | 0 | 1.73 |\n" +
		"| `PATCH /v1/partner` | 1.95 | 3 | 1.9 | 3 | 3.8 | 4.00 |\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
