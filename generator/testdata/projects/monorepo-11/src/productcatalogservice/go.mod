module github.com/GoogleCloudPlatform/microservices-demo/src/productcatalogservice

go 1.25.0
