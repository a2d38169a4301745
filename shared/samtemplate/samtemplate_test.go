package samtemplate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sample = `
Parameters:
  Stage: {Type: String, Default: dev}
  Url: {Type: String}
Globals:
  Function:
    Timeout: 10
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        STAGE: !Ref Stage
        FIXED: "1"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub t-${Stage}
      BillingMode: PAY_PER_REQUEST
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: G, AttributeType: N}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: ByG
          KeySchema:
            - {AttributeName: G, KeyType: HASH}
            - {AttributeName: PK, KeyType: RANGE}
          Projection: {ProjectionType: KEYS_ONLY}
  OneFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: makefile}
    Properties:
      CodeUri: functions/one
      Timeout: 30
      Environment:
        Variables:
          FIXED: "2"
          ARN: !GetAtt Table.Arn
      Events:
        Get:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: get, Path: "/v1/things/{id}"}
        Admin:
          Type: HttpApi
          Properties:
            Method: POST
            Path: /v1/admin
            Auth: {Authorizer: AWS_IAM}
  JobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
        Tick:
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(1 day)}
`

func TestParse(t *testing.T) {
	tpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.Functions) != 2 || tpl.Functions[0].LogicalID != "JobFunction" || tpl.Functions[1].LogicalID != "OneFunction" {
		t.Fatalf("functions = %+v", tpl.Functions)
	}
	job, one := tpl.Functions[0], tpl.Functions[1]
	if job.Folder() != "job" || one.Folder() != "one" {
		t.Errorf("folders = %q, %q", job.Folder(), one.Folder())
	}
	if job.Timeout != 10 || one.Timeout != 30 || one.BuildMethod != "makefile" {
		t.Errorf("timeouts = %d, %d; build method %q", job.Timeout, one.Timeout, one.BuildMethod)
	}
	wantRoutes := []Route{
		{Event: "Get", Method: "GET", Path: "/v1/things/{id}"},
		{Event: "Admin", Method: "POST", Path: "/v1/admin", IAM: true},
	}
	if d := cmp.Diff(wantRoutes, one.Routes); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Schedule{{Event: "Tick", Expression: "rate(1 day)"}}, job.Schedules); d != "" {
		t.Errorf("schedules (-want +got):\n%s", d)
	}
	wantEnv := map[string]Value{
		"TABLE_NAME": {Tag: "Ref", Text: "Table"},
		"STAGE":      {Tag: "Ref", Text: "Stage"},
		"FIXED":      {Text: "2"},
		"ARN":        {Tag: "GetAtt", Text: "Table.Arn"},
	}
	if d := cmp.Diff(wantEnv, one.Environment); d != "" {
		t.Errorf("environment (-want +got):\n%s", d)
	}
	env, err := tpl.Env(one, map[string]string{"Table": "local", "!GetAtt Table.Arn": "arn:local"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"TABLE_NAME": "local", "STAGE": "dev", "FIXED": "2", "ARN": "arn:local"}, env); d != "" {
		t.Errorf("resolved environment (-want +got):\n%s", d)
	}
	if _, err := tpl.Resolve(Value{Tag: "Ref", Text: "Url"}, nil); err == nil {
		t.Error("a parameter without default resolved")
	}
	wantTable := Table{
		LogicalID: "Table", TableName: Value{Tag: "Sub", Text: "t-${Stage}"}, BillingMode: "PAY_PER_REQUEST",
		Attributes: map[string]string{"PK": "S", "G": "N"}, HashKey: "PK",
		Indexes:      []Index{{Name: "ByG", HashKey: "G", RangeKey: "PK", Projection: "KEYS_ONLY"}},
		TTLAttribute: "ttl", TTLEnabled: true,
	}
	if d := cmp.Diff([]Table{wantTable}, tpl.Tables); d != "" {
		t.Errorf("tables (-want +got):\n%s", d)
	}
}

func TestParseRejects(t *testing.T) {
	for name, src := range map[string]string{
		"not a mapping": "- a\n- b\n",
		"no resources":  "Parameters: {}\n",
		"route without path": `Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: HttpApi, Properties: {Method: GET}}
`,
		"bad yaml": "a: [",
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
