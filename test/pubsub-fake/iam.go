package main

import (
	"context"
	"fmt"
	"sync"

	"cloud.google.com/go/iam/apiv1/iampb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// iamFake keeps one IAM policy per resource name in memory. Like the real
// service it returns an empty policy for a resource without one, versions
// policies with an etag, and rejects a write whose etag is stale.
type iamFake struct {
	iampb.UnimplementedIAMPolicyServer
	mu       sync.Mutex
	policies map[string]*iampb.Policy
	writes   int
}

func newIAMFake() *iamFake {
	return &iamFake{policies: map[string]*iampb.Policy{}}
}

func (f *iamFake) GetIamPolicy(_ context.Context, request *iampb.GetIamPolicyRequest) (*iampb.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if policy, ok := f.policies[request.GetResource()]; ok {
		return proto.Clone(policy).(*iampb.Policy), nil
	}
	return &iampb.Policy{Etag: []byte("initial")}, nil
}

func (f *iamFake) SetIamPolicy(_ context.Context, request *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	resource := request.GetResource()
	current := []byte("initial")
	if policy, ok := f.policies[resource]; ok {
		current = policy.GetEtag()
	}
	if etag := request.GetPolicy().GetEtag(); len(etag) > 0 && string(etag) != string(current) {
		return nil, status.Errorf(codes.Aborted, "etag %q of %s is stale; read the policy again", etag, resource)
	}
	f.writes++
	policy := proto.Clone(request.GetPolicy()).(*iampb.Policy)
	policy.Etag = []byte(fmt.Sprintf("write-%d", f.writes))
	f.policies[resource] = policy
	return proto.Clone(policy).(*iampb.Policy), nil
}

func (f *iamFake) TestIamPermissions(_ context.Context, request *iampb.TestIamPermissionsRequest) (*iampb.TestIamPermissionsResponse, error) {
	return &iampb.TestIamPermissionsResponse{Permissions: request.GetPermissions()}, nil
}
