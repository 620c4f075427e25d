package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// testFile is a small proto file, with comments where buf would record them:
//
//	// ThingService serves things.
//	service ThingService { // Watch streams <things>.
//	  rpc Watch(Thing) returns (stream Thing); }
//	// Thing is one thing.
//	message Thing {
//	  string id = 1;                    // The id | the key.
//	  repeated Kind kinds = 2;
//	  map<string, int32> counts = 3;
//	  optional string note = 4;
//	  oneof choice { string a = 5; }
//	}
//	enum Kind { KIND_UNSPECIFIED = 0; KIND_BIG = 1; /* Big. */ }
func testFile() *descriptorpb.FileDescriptorProto {
	field := func(name string, n int32, t descriptorpb.FieldDescriptorProto_Type, label descriptorpb.FieldDescriptorProto_Label, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: t.Enum(), Label: label.Enum(), JsonName: proto.String(name)}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	opt, rep := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL, descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	note := field("note", 4, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt, "")
	note.OneofIndex, note.Proto3Optional = proto.Int32(1), proto.Bool(true)
	a := field("a", 5, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt, "")
	a.OneofIndex = proto.Int32(0)
	loc := func(comment string, path ...int32) *descriptorpb.SourceCodeInfo_Location {
		return &descriptorpb.SourceCodeInfo_Location{Path: path, Span: []int32{0, 0, 1}, LeadingComments: proto.String(comment)}
	}
	return &descriptorpb.FileDescriptorProto{
		Name: proto.String("t/v1/t.proto"), Package: proto.String("t.v1"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("Thing"),
			Field: []*descriptorpb.FieldDescriptorProto{
				field("id", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt, ""),
				field("kinds", 2, descriptorpb.FieldDescriptorProto_TYPE_ENUM, rep, ".t.v1.Kind"),
				field("counts", 3, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, rep, ".t.v1.Thing.CountsEntry"),
				note, a,
			},
			NestedType: []*descriptorpb.DescriptorProto{{
				Name: proto.String("CountsEntry"), Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
				Field: []*descriptorpb.FieldDescriptorProto{
					field("key", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt, ""),
					field("value", 2, descriptorpb.FieldDescriptorProto_TYPE_INT32, opt, ""),
				},
			}},
			OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: proto.String("choice")}, {Name: proto.String("_note")}},
		}},
		EnumType: []*descriptorpb.EnumDescriptorProto{{
			Name: proto.String("Kind"),
			Value: []*descriptorpb.EnumValueDescriptorProto{
				{Name: proto.String("KIND_UNSPECIFIED"), Number: proto.Int32(0)},
				{Name: proto.String("KIND_BIG"), Number: proto.Int32(1)},
			},
		}},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("ThingService"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name: proto.String("Watch"), InputType: proto.String(".t.v1.Thing"), OutputType: proto.String(".t.v1.Thing"),
				ServerStreaming: proto.Bool(true),
			}},
		}},
		SourceCodeInfo: &descriptorpb.SourceCodeInfo{Location: []*descriptorpb.SourceCodeInfo_Location{
			loc(" ThingService serves things.\n", 6, 0),
			loc(" Watch streams <things>.\n", 6, 0, 2, 0),
			loc(" Thing is one thing.\n", 4, 0),
			loc(" The id | the key.\n", 4, 0, 2, 0),
			loc(" Big.\n", 5, 0, 2, 1),
		}},
	}
}

func TestReference(t *testing.T) {
	b, err := proto.Marshal(&descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{testFile()}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "set.binpb")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(path, protoreflect.FullName("t.v1"), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"### ThingService\n\nThingService serves things.\n",
		"| `Watch` | [Thing](#thing) | stream [Thing](#thing) | Watch streams &lt;things&gt;. |",
		"### Thing\n\nThing is one thing.\n",
		"| `id` | string | The id \\| the key. |",
		"| `kinds` | repeated [Kind](#kind) |",
		"| `counts` | map&lt;string, int32&gt; |",
		"| `note` | optional string |",
		"| `a` | string | One of `choice`. |",
		"### Kind\n",
		"| `KIND_BIG` | 1 | Big. |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the reference lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "CountsEntry") {
		t.Error("a map entry is documented as a message")
	}
	if err := run(path, protoreflect.FullName("other.v1"), &out); err == nil {
		t.Error("a package with no file gave no error")
	}
}
