// Package pricing turns what a request consumed into what it costs on AWS,
// for `make bench`. The prices are the public us-east-1 list prices for the
// services the portal uses; update them here when AWS changes them.
package pricing

// List prices in US dollars (us-east-1).
const (
	// APIGatewayHTTPPerMillion is the HTTP API price per million requests
	// (first 300 million a month).
	APIGatewayHTTPPerMillion = 1.00
	// LambdaRequestsPerMillion is the Lambda price per million invocations.
	LambdaRequestsPerMillion = 0.20
	// LambdaArmGBSecond is the Lambda arm64 price per GB-second.
	LambdaArmGBSecond = 0.0000133334
	// DynamoWritePerMillion is the on-demand price per million write request units.
	DynamoWritePerMillion = 0.625
	// DynamoReadPerMillion is the on-demand price per million read request units.
	DynamoReadPerMillion = 0.125
)

// Request is what one API request consumed.
type Request struct {
	ReadUnits  float64
	WriteUnits float64
	// LambdaMillis is the billed duration of the function, in milliseconds.
	LambdaMillis float64
	// MemoryMB is the function's configured memory.
	MemoryMB float64
}

// Breakdown is the cost of a million such requests, per service.
type Breakdown struct {
	APIGateway, Lambda, DynamoDB, Total float64
}

// PerMillion prices a million requests like r.
func PerMillion(r Request) Breakdown {
	b := Breakdown{
		APIGateway: APIGatewayHTTPPerMillion,
		Lambda:     LambdaRequestsPerMillion + 1e6*(r.LambdaMillis/1000)*(r.MemoryMB/1024)*LambdaArmGBSecond,
		DynamoDB:   r.ReadUnits*DynamoReadPerMillion + r.WriteUnits*DynamoWritePerMillion,
	}
	b.Total = b.APIGateway + b.Lambda + b.DynamoDB
	return b
}

// EstimatedMillis models a function's billed duration from its DynamoDB
// round trips: a fixed handler cost plus a typical in-region round trip.
// The embedded engine's timings say nothing about AWS, so the model is
// explicit instead of measured.
func EstimatedMillis(roundTrips float64) float64 {
	const handlerMs, roundTripMs = 2, 6
	return handlerMs + roundTripMs*roundTrips
}
