module koala.test/pause

go 1.24
