"""A SPIFFE Workload API client in another gRPC implementation (Debian's python3-grpcio),
with stubs python3-grpc-tools compiled from the project's workload.proto. Used by
workload-api-python.test.ts: prints one JSON document the test checks.

  workload_client.py STUBS_DIR SOCKET checks AUDIENCE   every RPC once, the metadata rule, the codes
  workload_client.py STUBS_DIR SOCKET watch N SECONDS   the first N FetchX509SVID messages
  workload_client.py STUBS_DIR SOCKET status            the code a FetchX509SVID and a FetchJWTSVID get
"""
import base64
import json
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import workload_pb2 as pb  # noqa: E402
import workload_pb2_grpc as rpc  # noqa: E402

HEADER = (("workload.spiffe.io", "true"),)
TIMEOUT = 10


def b64(data):
    return base64.b64encode(data).decode()


def code_of(call):
    try:
        result = call()
        if hasattr(result, "__next__"):
            next(result)
        return "OK"
    except grpc.RpcError as e:
        return e.code().name


def first(stream):
    for message in stream:
        return message
    return None


def checks(stub, audience):
    out = {"without_header": {}, "wrong_header": {}}
    calls = {
        "FetchX509SVID": lambda md: stub.FetchX509SVID(pb.X509SVIDRequest(), metadata=md, timeout=TIMEOUT),
        "FetchX509Bundles": lambda md: stub.FetchX509Bundles(pb.X509BundlesRequest(), metadata=md, timeout=TIMEOUT),
        "FetchJWTBundles": lambda md: stub.FetchJWTBundles(pb.JWTBundlesRequest(), metadata=md, timeout=TIMEOUT),
        "FetchJWTSVID": lambda md: stub.FetchJWTSVID(pb.JWTSVIDRequest(audience=[audience]), metadata=md, timeout=TIMEOUT),
        "ValidateJWTSVID": lambda md: stub.ValidateJWTSVID(
            pb.ValidateJWTSVIDRequest(audience=audience, svid="a.b.c"), metadata=md, timeout=TIMEOUT
        ),
        "FetchWITSVID": lambda md: stub.FetchWITSVID(pb.WITSVIDRequest(), metadata=md, timeout=TIMEOUT),
    }
    for name, call in calls.items():
        out["without_header"][name] = code_of(lambda: call(()))
        out["wrong_header"][name] = code_of(lambda: call((("workload.spiffe.io", "TRUE"),)))
    out["FetchWITSVID"] = code_of(lambda: calls["FetchWITSVID"](HEADER))
    out["FetchWITBundles"] = code_of(
        lambda: stub.FetchWITBundles(pb.WITBundlesRequest(), metadata=HEADER, timeout=TIMEOUT)
    )

    x509 = first(stub.FetchX509SVID(pb.X509SVIDRequest(), metadata=HEADER, timeout=TIMEOUT))
    svid = x509.svids[0]
    out["x509"] = {
        "spiffe_id": svid.spiffe_id,
        "chain": b64(svid.x509_svid),
        "key": b64(svid.x509_svid_key),
        "bundle": b64(svid.bundle),
    }
    bundles = first(stub.FetchX509Bundles(pb.X509BundlesRequest(), metadata=HEADER, timeout=TIMEOUT))
    out["x509_bundles"] = {k: b64(v) for k, v in bundles.bundles.items()}
    jwt_bundles = first(stub.FetchJWTBundles(pb.JWTBundlesRequest(), metadata=HEADER, timeout=TIMEOUT))
    out["jwt_bundles"] = {k: json.loads(v) for k, v in jwt_bundles.bundles.items()}

    jwt = stub.FetchJWTSVID(pb.JWTSVIDRequest(audience=[audience]), metadata=HEADER, timeout=TIMEOUT)
    token = jwt.svids[0].svid
    out["jwt"] = {"spiffe_id": jwt.svids[0].spiffe_id, "token": token}
    out["jwt_no_audience"] = code_of(
        lambda: stub.FetchJWTSVID(pb.JWTSVIDRequest(), metadata=HEADER, timeout=TIMEOUT)
    )
    out["jwt_other_id"] = code_of(
        lambda: stub.FetchJWTSVID(
            pb.JWTSVIDRequest(audience=[audience], spiffe_id="spiffe://example.org/not-me"),
            metadata=HEADER,
            timeout=TIMEOUT,
        )
    )
    valid = stub.ValidateJWTSVID(
        pb.ValidateJWTSVIDRequest(audience=audience, svid=token), metadata=HEADER, timeout=TIMEOUT
    )
    claims = {k: v for k, v in valid.claims.items()}
    out["validate"] = {"spiffe_id": valid.spiffe_id, "sub": claims.get("sub"), "aud": list(claims.get("aud", []))}
    out["validate_wrong_audience"] = code_of(
        lambda: stub.ValidateJWTSVID(
            pb.ValidateJWTSVIDRequest(audience="someone-else", svid=token), metadata=HEADER, timeout=TIMEOUT
        )
    )
    out["validate_empty"] = code_of(
        lambda: stub.ValidateJWTSVID(pb.ValidateJWTSVIDRequest(audience=audience), metadata=HEADER, timeout=TIMEOUT)
    )
    return out


def watch(stub, count, seconds):
    got = []
    stream = stub.FetchX509SVID(pb.X509SVIDRequest(), metadata=HEADER, timeout=seconds)
    try:
        for message in stream:
            got.append(b64(message.svids[0].x509_svid))
            print(json.dumps({"message": len(got)}), flush=True)
            if len(got) == count:
                stream.cancel()
                break
        status = "OK"
    except grpc.RpcError as e:
        status = e.code().name + " " + str(e.details())
    return {"leaves": got, "status": status}


def status(stub):
    return {
        "FetchX509SVID": code_of(lambda: stub.FetchX509SVID(pb.X509SVIDRequest(), metadata=HEADER, timeout=TIMEOUT)),
        "FetchJWTSVID": code_of(
            lambda: stub.FetchJWTSVID(pb.JWTSVIDRequest(audience=["a"]), metadata=HEADER, timeout=TIMEOUT)
        ),
    }


def main():
    socket, mode = sys.argv[2], sys.argv[3]
    with grpc.insecure_channel("unix://" + socket) as channel:
        stub = rpc.SpiffeWorkloadAPIStub(channel)
        if mode == "checks":
            result = checks(stub, sys.argv[4])
        elif mode == "watch":
            result = watch(stub, int(sys.argv[4]), float(sys.argv[5]))
        else:
            result = status(stub)
    print(json.dumps({"result": result}), flush=True)


main()
