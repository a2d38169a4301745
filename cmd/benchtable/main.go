// Command benchtable turns the output of `go test -bench BenchmarkRoutes`
// (shared/api) into a markdown table, one row per route, for `make bench`
// and docs/performance.md.
//
//	go test ./shared/api -run '^$' -bench BenchmarkRoutes -benchtime 20x | go run ./cmd/benchtable
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// columns are the benchmark's metrics, in the table's order, with headings.
var columns = []struct{ unit, heading string }{
	{"roundtrips/op", "round trips"},
	{"itemsRead/op", "items read"},
	{"itemsWritten/op", "items written"},
	{"RRU/op", "RRU"},
	{"WRU/op", "WRU"},
	{"USD/1M-requests", "USD per 1M requests"},
}

// benchLine matches a result line: name, GOMAXPROCS suffix, iterations,
// then value-unit pairs.
var benchLine = regexp.MustCompile(`^BenchmarkRoutes/(\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

type row struct {
	route   string
	metrics map[string]string
}

// parse reads benchmark output and returns its BenchmarkRoutes rows in order.
func parse(r io.Reader) ([]row, error) {
	var rows []row
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		// go test writes a sub-benchmark "GET /v1/x" as "GET_/v1/x".
		method, path, _ := strings.Cut(m[1], "_")
		fields := strings.Fields(m[3])
		metrics := map[string]string{}
		for i := 0; i+1 < len(fields); i += 2 {
			metrics[fields[i+1]] = fields[i]
		}
		rows = append(rows, row{route: method + " " + path, metrics: metrics})
	}
	return rows, sc.Err()
}

// format writes the rows as a markdown table; numbers are trimmed of
// needless zeros ("2.000" is 2, "1.950" is 1.95).
func format(w io.Writer, rows []row) {
	fmt.Fprint(w, "| route |")
	for _, c := range columns {
		fmt.Fprintf(w, " %s |", c.heading)
	}
	fmt.Fprint(w, "\n|---|")
	for range columns {
		fmt.Fprint(w, "--:|")
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "| `%s` |", r.route)
		for _, c := range columns {
			fmt.Fprintf(w, " %s |", number(r.metrics[c.unit], c.unit))
		}
		fmt.Fprintln(w)
	}
}

func number(s, unit string) string {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "?"
	}
	if strings.HasPrefix(unit, "USD") {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func main() {
	rows, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(rows) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no BenchmarkRoutes results on standard input")
		os.Exit(1)
	}
	format(os.Stdout, rows)
}
