// Command opa-ext-authz is the bench's OPA reference: an Envoy ext_authz gRPC server that converts
// each CheckRequest to OPA input the way opa-envoy-plugin does (protojson, then a generic map) and
// evaluates a Rego policy with OPA's Go SDK. The bench runs it with the JWT policy in
// bench/opa-ext-authz/policy.rego (ES256 verification against the same JWKS, iss, aud, exp), so
// the distinct-token case compares jwtexchange with OPA on the same work. opa-envoy-plugin itself
// is not served by the Go module proxy; this is the same evaluation path, built from OPA's module.
//
// Usage: opa-ext-authz -addr 127.0.0.1:0 -policy policy.rego -data data.json
// Prints "listening <port>" on stdout once it serves.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type server struct {
	authv3.UnimplementedAuthorizationServer
	query rego.PreparedEvalQuery
}

// input converts the request as opa-envoy-plugin does: protojson, then a generic JSON value.
func input(req *authv3.CheckRequest) (map[string]interface{}, error) {
	raw, err := protojson.Marshal(req)
	if err != nil {
		return nil, err
	}
	var in map[string]interface{}
	err = json.Unmarshal(raw, &in)
	return in, err
}

func (s *server) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	in, err := input(req)
	if err != nil {
		return nil, err
	}
	rs, err := s.query.Eval(ctx, rego.EvalInput(in))
	if err != nil {
		return nil, err
	}
	decision, _ := firstValue(rs).(map[string]interface{})
	if allowed, _ := decision["allowed"].(bool); !allowed {
		return &authv3.CheckResponse{
			Status: &rpcstatus.Status{Code: int32(codes.PermissionDenied)},
			HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status: &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
			}},
		}, nil
	}
	var headers []*corev3.HeaderValueOption
	if h, ok := decision["headers"].(map[string]interface{}); ok {
		for k, v := range h {
			headers = append(headers, &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: k, Value: fmt.Sprint(v)},
				Append:       wrapperspb.Bool(false),
				AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
			})
		}
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{Headers: headers}},
	}, nil
}

func firstValue(rs rego.ResultSet) interface{} {
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil
	}
	return rs[0].Expressions[0].Value
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	policy := flag.String("policy", "policy.rego", "Rego policy file")
	dataFile := flag.String("data", "", "JSON document loaded as data")
	flag.Parse()
	module, err := os.ReadFile(*policy)
	if err != nil {
		log.Fatal(err)
	}
	var data map[string]interface{}
	if *dataFile != "" {
		raw, err := os.ReadFile(*dataFile)
		if err != nil {
			log.Fatal(err)
		}
		if err := json.Unmarshal(raw, &data); err != nil {
			log.Fatal(err)
		}
	}
	query, err := rego.New(
		rego.Query("data.envoy.authz.allow"),
		rego.Module(*policy, string(module)),
		rego.Store(inmem.NewFromObject(data)),
	).PrepareForEval(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	authv3.RegisterAuthorizationServer(srv, &server{query: query})
	fmt.Printf("listening %d\n", lis.Addr().(*net.TCPAddr).Port)
	log.Fatal(srv.Serve(lis))
}
