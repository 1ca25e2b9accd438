module github.com/GoogleCloudPlatform/microservices-demo/src/checkoutservice

go 1.25.0
