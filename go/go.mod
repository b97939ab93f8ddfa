module github.com/jvs-project/jvs/go

go 1.22
