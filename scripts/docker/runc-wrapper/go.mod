module koala.test/runc-wrapper

go 1.24
