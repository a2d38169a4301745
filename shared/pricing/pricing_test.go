package pricing

import (
	"math"
	"testing"
)

func TestPerMillion(t *testing.T) {
	// One strongly consistent read, one write, 20 ms at 1024 MB.
	b := PerMillion(Request{ReadUnits: 1, WriteUnits: 1, LambdaMillis: 20, MemoryMB: 1024})
	want := Breakdown{APIGateway: 1, Lambda: 0.2 + 1e6*0.02*LambdaArmGBSecond, DynamoDB: 0.125 + 0.625}
	want.Total = want.APIGateway + want.Lambda + want.DynamoDB
	for _, pair := range [][2]float64{{b.APIGateway, want.APIGateway}, {b.Lambda, want.Lambda}, {b.DynamoDB, want.DynamoDB}, {b.Total, want.Total}} {
		if math.Abs(pair[0]-pair[1]) > 1e-9 {
			t.Fatalf("PerMillion = %+v, want %+v", b, want)
		}
	}
	if EstimatedMillis(2) <= EstimatedMillis(1) {
		t.Error("more round trips must not cost less time")
	}
}
