"""The gRPC API served by the gateway beside REST: Trading and MarketData
(protos/exchange_proto/*_api.proto), grpc.health.v1 and server reflection."""
