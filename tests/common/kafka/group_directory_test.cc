#include "common/kafka/group_directory.h"

#include <gtest/gtest.h>

#include <string>

namespace kam::kafka {
namespace {

// The consumer protocol's Assignment as the Java client and librdkafka write it (big-endian).
class AssignmentBytes {
 public:
  AssignmentBytes& Int16(int16_t v) { return Put(static_cast<uint16_t>(v), 2); }
  AssignmentBytes& Int32(int32_t v) { return Put(static_cast<uint32_t>(v), 4); }
  AssignmentBytes& String(const std::string& s) {
    Int16(static_cast<int16_t>(s.size()));
    bytes_ += s;
    return *this;
  }
  std::string bytes() const { return bytes_; }

 private:
  AssignmentBytes& Put(uint32_t v, int width) {
    for (int i = width - 1; i >= 0; --i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  std::string bytes_;
};

TEST(DecodeConsumerAssignmentTest, ReadsTopicsAndPartitionsAndSkipsUserData) {
  std::string bytes = AssignmentBytes()
                          .Int16(1)
                          .Int32(2)
                          .String("kam.accounts.v1")
                          .Int32(2)
                          .Int32(0)
                          .Int32(2)
                          .String("kam.interactions.v1")
                          .Int32(1)
                          .Int32(1)
                          .Int32(3)  // user data: 3 bytes
                          .bytes() +
                      "abc";
  auto assignment = DecodeConsumerAssignment(bytes);
  ASSERT_TRUE(assignment);
  EXPECT_EQ((*assignment)["kam.accounts.v1"], (std::vector<int32_t>{0, 2}));
  EXPECT_EQ((*assignment)["kam.interactions.v1"], (std::vector<int32_t>{1}));
}

TEST(DecodeConsumerAssignmentTest, NoBytesIsNoAssignment) {
  auto assignment = DecodeConsumerAssignment("");
  ASSERT_TRUE(assignment);
  EXPECT_TRUE(assignment->empty());
}

TEST(DecodeConsumerAssignmentTest, TruncatedOrNegativeCountsAreRefused) {
  const std::string whole =
      AssignmentBytes().Int16(0).Int32(1).String("t").Int32(2).Int32(0).Int32(1).bytes();
  ASSERT_TRUE(DecodeConsumerAssignment(whole));
  for (size_t cut = 1; cut < whole.size(); ++cut) {
    EXPECT_FALSE(DecodeConsumerAssignment(whole.substr(0, cut))) << "cut at " << cut;
  }
  EXPECT_FALSE(DecodeConsumerAssignment(AssignmentBytes().Int16(0).Int32(-1).bytes()));
  EXPECT_FALSE(DecodeConsumerAssignment(
      AssignmentBytes().Int16(0).Int32(1).String("t").Int32(1 << 30).bytes()));
}

TEST(AdvertisedAddressOfTest, TheAddressAfterTheLastAt) {
  EXPECT_EQ(AdvertisedAddressOf("kam-accounts@10.0.0.7:50051"), "10.0.0.7:50051");
  EXPECT_EQ(AdvertisedAddressOf("rdkafka"), "");
  EXPECT_EQ(AdvertisedAddressOf("kam@"), "");
}

}  // namespace
}  // namespace kam::kafka
