module github.com/Codertocat/Hello-World

go 1.26
