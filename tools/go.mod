module github.com/drover-dev/drover/tools

go 1.26
