import { LikeButton } from '../../spoor';

export default async function Item({ params }) {
  const { id } = await params;
  return (
    <>
      <h1>Item {id}</h1>
      <LikeButton id={id} />
    </>
  );
}
